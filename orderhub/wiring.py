"""Build live clients from seller config: resolve credentials, sandbox URLs and the shared limiter.

The CLI and the workers both go through here, so a shop is wired one way everywhere.
"""

from __future__ import annotations

from typing import Any

import msgspec
import redis

from config.loader import credentials_for
from config.schema import SANDBOX, SellerConfig, ShopConfig
from connectors.ratelimit import RateLimiter
from connectors.registry import get_connector
from pipeline import keys
from pipeline.errors import ConfigError
from pipeline.ports import PlatformClient, PlatformConnector, ShopRef


def sandbox_url(client: redis.Redis, prefix: str, name: str) -> str:
    """The URL of a running emulator, from the hash `orderhub sandbox serve` writes (keys.sandbox_endpoints)."""
    url = client.hget(keys.sandbox_endpoints(prefix), name)
    if url is None:
        raise ConfigError([f'base_url "sandbox": no {name} emulator is running (start `orderhub sandbox serve`)'])
    return url.decode()


def shop_ref(seller: SellerConfig, shop: ShopConfig) -> ShopRef:
    return ShopRef(seller=seller.seller, platform=shop.platform, shop_id=shop.shop_id)


def platform_client(
    seller: SellerConfig, shop: ShopConfig, client: redis.Redis, prefix: str, *, max_wait: float = 30.0
) -> tuple[PlatformConnector, PlatformClient, ShopRef]:
    """The connector, an authenticated client and the shop reference for one configured shop."""
    connector = get_connector(shop.platform)
    if shop.base_url == SANDBOX:
        shop = msgspec.structs.replace(shop, base_url=sandbox_url(client, prefix, shop.platform))
    secrets = credentials_for(seller, shop.credentials, f"shops[{shop.shop_id}].credentials")
    limiter = RateLimiter(client, prefix, max_wait=max_wait)
    return connector, connector.client(shop, secrets, limiter), shop_ref(seller, shop)


def warehouse_clients(seller: SellerConfig, client: redis.Redis, prefix: str) -> dict[str, Any]:
    """A connected client per enabled warehouse of a seller, by warehouse id."""
    from connectors.warehouses.registry import get_warehouse_connector

    clients = {}
    limiter = RateLimiter(client, prefix)
    for wh in seller.warehouses:
        if not wh.enabled:
            continue
        if wh.base_url == SANDBOX:
            wh = msgspec.structs.replace(wh, base_url=sandbox_url(client, prefix, wh.kind))
        secrets = credentials_for(seller, wh.credentials, f"warehouses[{wh.id}].credentials")
        clients[wh.id] = get_warehouse_connector(wh.kind).client(wh, secrets, limiter)
    return clients
