from __future__ import annotations

from pathlib import Path

import orjson

from pipeline.ports import ShopRef

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def bundle(platform: str, name: str) -> dict:
    return orjson.loads((FIXTURES / platform / f"{name}.json").read_bytes())


def shop(platform: str) -> ShopRef:
    return ShopRef(seller="acme", platform=platform, shop_id=f"acme-{platform}")
