"""Connected clients reused across the tasks of one worker process, while their config stands.

Building a client resolves its secrets from files and opens a fresh HTTP session (a new TCP
connection, for some platforms a token exchange); doing that in every task cost more than the calls
it then made. A pool process runs one task at a time and clients are kept per thread, since requests
sessions are not thread-safe. An entry lives 30 s, so a moved sandbox endpoint is picked up soon.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import redis

from config.schema import SellerConfig, ShopConfig
from orderhub import wiring

TTL_SECONDS = 30.0

_cache: dict[tuple, tuple[float, SellerConfig, Any]] = {}


def _cached(key: tuple, seller: SellerConfig, build: Callable[[], Any]) -> Any:
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and hit[1] is seller and now - hit[0] < TTL_SECONDS:
        return hit[2]
    value = build()
    _cache[key] = (now, seller, value)
    return value


def platform_client(seller: SellerConfig, shop: ShopConfig, client: redis.Redis, prefix: str, **kwargs: Any):
    """`orderhub.wiring.platform_client`, reused while the seller's config object is the same one."""
    key = ("platform", threading.get_ident(), seller.seller, shop.shop_id, id(client), prefix, tuple(kwargs.items()))
    return _cached(key, seller, lambda: wiring.platform_client(seller, shop, client, prefix, **kwargs))


def warehouse_clients(seller: SellerConfig, client: redis.Redis, prefix: str) -> dict[str, Any]:
    """`orderhub.wiring.warehouse_clients`, reused the same way."""
    key = ("warehouses", threading.get_ident(), seller.seller, id(client), prefix)
    return _cached(key, seller, lambda: wiring.warehouse_clients(seller, client, prefix))
