"""Seller config as workers see it: loaded from files, re-read when a file changes.

Ops edit a file; the next task picks the change up without a worker restart.
"""

from __future__ import annotations

from pathlib import Path

from config.loader import load_sellers, seller_files
from config.schema import SellerConfig
from orderhub.runtime.settings import config_path

_cache: dict[str, tuple[tuple[tuple[str, float], ...], dict[str, SellerConfig]]] = {}


def _fingerprint(target: Path) -> tuple[tuple[str, float], ...]:
    return tuple((str(f), f.stat().st_mtime) for f in seller_files(target) if f.exists())


def all_sellers(target: Path | None = None) -> dict[str, SellerConfig]:
    target = target or config_path()
    fingerprint = _fingerprint(target)
    cached = _cache.get(str(target))
    if cached is None or cached[0] != fingerprint:
        cached = (fingerprint, {cfg.seller: cfg for cfg in load_sellers(target)})
        _cache[str(target)] = cached
    return cached[1]


def seller_config(seller: str) -> SellerConfig:
    sellers = all_sellers()
    if seller not in sellers:
        raise KeyError(f"no seller {seller!r} in {config_path()} (known: {', '.join(sorted(sellers))})")
    return sellers[seller]
