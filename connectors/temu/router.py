"""Where a TEMU call goes and how it is metered: the region's router, and the app's one rate bucket.

Apart from the client because both are decided once per shop, before any call: the region picks the
router host, and TEMU meters the app_key, not the API type (20 QPS, docs/platforms/temu.md), so every
operation draws from one shared bucket, `APP_BUCKET`, whatever name the transport meters it under.
"""

from __future__ import annotations

from config.schema import ShopConfig
from connectors.ratelimit import RateLimiter
from pipeline.ports import Limit

PRODUCTION_ROUTERS = {"US": "https://openapi-b-us.temu.com/openapi/router",
                      "EU": "https://openapi-b-eu.temu.com/openapi/router",
                      "GLOBAL": "https://openapi-b-global.temu.com/openapi/router"}
APP_BUCKET = "router"


def router_url(shop: ShopConfig) -> str:
    """Production: the region's own host. Sandbox (`base_url` set): `{base_url}/{region}/openapi/router`."""
    region = (shop.region or "US").upper()
    if region not in PRODUCTION_ROUTERS:
        raise ValueError(f"temu shop {shop.shop_id}: region must be one of {sorted(PRODUCTION_ROUTERS)}")
    if shop.base_url:
        return f"{shop.base_url.rstrip('/')}/{region.lower()}/openapi/router"
    return PRODUCTION_ROUTERS[region]


class AppBudget:
    """The limiter as TEMU meters it: whatever the operation, the token comes from the app's one bucket."""

    def __init__(self, limiter: RateLimiter, limit: Limit) -> None:
        self._limiter, self._limit = limiter, limit

    def acquire(self, platform: str, account: str, operation: str, limit: Limit, cost: int = 1) -> float:
        return self._limiter.acquire(platform, account, APP_BUCKET, self._limit, cost)

    def block(self, platform: str, account: str, operation: str, seconds: float) -> None:
        self._limiter.block(platform, account, APP_BUCKET, seconds)
