"""How a shop's stock push is asked for, and why asking a thousand times queues one task.

Every routing batch asks every shop for a push; one task per ask was thousands of queued messages
under load (the chaos run), all but the first with nothing left to do. So a request is noted in Redis
(a full push, or the SKUs an urgent push wants) and a task is queued only when none is queued yet:
that one takes every noted request on when it starts. The caller (workers/stock.py) does the queuing;
this module only keeps the bookkeeping, under the keys of `keys.stock_requests`.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis

from config.schema import SellerConfig
from pipeline import keys

QUEUED_SECONDS = 60
"""The queued mark expires, so a message lost on its way (kombu's pop-before-unacked window) stops
holding new ones back after this long; beat's periodic full push covers the gap."""

FULL_SECONDS = 3600
"""How long a noted full push waits to be taken on before it is dropped (beat asks again anyway)."""


def note(client: redis.Redis, prefix: str, seller: str, shop_id: str, skus: Iterable[str] | None) -> None:
    """Note a request: these SKUs for an urgent push, or (no SKUs) a full push."""
    full_key, skus_key, _ = keys.stock_requests(prefix, seller, shop_id)
    skus = list(skus or ())
    if skus:
        client.sadd(skus_key, *skus)
    else:
        client.set(full_key, 1, ex=FULL_SECONDS)


def claim_queued(client: redis.Redis, prefix: str, seller: str, shop_id: str) -> bool:
    """True when no push task is queued for the shop: the caller must now queue one."""
    return bool(client.set(keys.stock_requests(prefix, seller, shop_id).queued, 1, nx=True, ex=QUEUED_SECONDS))


def request(client: redis.Redis, prefix: str, seller: str, shop_id: str, skus: Iterable[str] | None = None) -> bool:
    """Note the request; True when the caller must queue a push task (none is queued already)."""
    note(client, prefix, seller, shop_id, skus)
    return claim_queued(client, prefix, seller, shop_id)


def request_for_seller(client: redis.Redis, prefix: str, cfg: SellerConfig, skus: Iterable[str] | None = None,
                       urgent: bool = False) -> list[str]:
    """A change of the seller's stock, asked of every enabled shop: the SKUs for an urgent push (a
    routing took the last units), else a full push. Returns the shops that need a push task queued."""
    wanted = list(skus or ()) if urgent else None
    return [shop.shop_id for shop in cfg.shops
            if shop.enabled and request(client, prefix, cfg.seller, shop.shop_id, wanted)]


def started(client: redis.Redis, prefix: str, seller: str, shop_id: str) -> None:
    """A push task has started: from here on a new request needs a new task."""
    client.delete(keys.stock_requests(prefix, seller, shop_id).queued)


def take(client: redis.Redis, prefix: str, seller: str, shop_id: str) -> tuple[bool, set[str]] | None:
    """Take every noted request at once: (a full push is wanted, the SKUs wanted), or None if none is."""
    full_key, skus_key, _ = keys.stock_requests(prefix, seller, shop_id)
    pipe = client.pipeline()
    pipe.getdel(full_key).smembers(skus_key).delete(skus_key)
    full, pending, _ = pipe.execute()
    if not full and not pending:
        return None
    return bool(full), {sku.decode() for sku in pending}


def keep_full(client: redis.Redis, prefix: str, seller: str, shop_id: str) -> None:
    """A push cut short: whatever it had taken on is pushed by the next one, in full."""
    client.set(keys.stock_requests(prefix, seller, shop_id).full, 1, ex=FULL_SECONDS)


def pending(client: redis.Redis, prefix: str, seller: str, shop_id: str) -> bool:
    """True when a request is noted and not taken on (noted meanwhile, or left over)."""
    full_key, skus_key, _ = keys.stock_requests(prefix, seller, shop_id)
    return bool(client.exists(full_key) or client.scard(skus_key))
