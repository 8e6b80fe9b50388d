"""The platform connectors Orderhub knows, by name: a plain dict, nothing looked up by magic."""

from __future__ import annotations

from connectors import aliexpress, amazon, shein, temu, tiktok
from pipeline.ports import PlatformConnector

PLATFORMS: dict[str, PlatformConnector] = {
    "aliexpress": aliexpress.CONNECTOR,
    "amazon": amazon.CONNECTOR,
    "shein": shein.CONNECTOR,
    "temu": temu.CONNECTOR,
    "tiktok": tiktok.CONNECTOR,
}


def get_connector(name: str) -> PlatformConnector:
    try:
        return PLATFORMS[name]
    except KeyError:
        raise KeyError(f"unknown platform {name!r} (known: {', '.join(sorted(PLATFORMS))})") from None
