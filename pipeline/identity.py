"""Who an order is, under every name it goes by: Orderhub's binder between its ids and the outside ones.

An order is known by its key `{platform}:{shop_id}:{external_id}` in the store, the queues and the
logs; a warehouse knows it by the outbound reference Orderhub issued for it, and the reference index
leads back; a platform's list row is recognised by its digest. Each of these was built, or taken
apart again, in several modules, and one changed alone loses or doubles orders: a reference computed
differently on a retry creates a second outbound at the warehouse, a key read apart differently
acknowledges on the wrong platform, a digest computed differently re-reads (or never re-reads) every
order. So they are made and read here only (the "binder" of OCA's connector framework): nobody else
splits a key string.

Every format here is stored data or known to a warehouse: none may change.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

import orjson

from pipeline import keys

if TYPE_CHECKING:
    import redis


class _Keyed(Protocol):
    """What the reference index needs of a store: its client and key prefix (identity stands below the
    store, so it names no store class)."""

    redis: redis.Redis
    prefix: str


class OrderRef(NamedTuple):
    """An order key taken apart."""

    platform: str
    shop_id: str
    external_id: str

    @property
    def key(self) -> str:
        return order_key(self.platform, self.shop_id, self.external_id)


def order_key(platform: str, shop_id: str, external_id: str) -> str:
    """The one identity of an order across Orderhub: `{platform}:{shop_id}:{external_id}`.

    (pipeline/model.py `Order` checks its key against the same template, inlined for speed.)"""
    return f"{platform}:{shop_id}:{external_id}"


def parse_order_key(key: str) -> OrderRef:
    """An order key's parts. The platform ends at the first colon (platform names have none) and the
    external id starts after the last one, as outbound references have always read it."""
    platform, _, rest = key.partition(":")
    shop_id, _, external_id = rest.rpartition(":")
    if not (platform and shop_id and external_id):
        raise ValueError(f"not an order key ('{{platform}}:{{shop_id}}:{{external_id}}'): {key!r}")
    return OrderRef(platform, shop_id, external_id)


def outbound_reference(order_key: str, warehouse_id: str, *, max_length: int = 50) -> str:
    """The client reference of (order, warehouse) at the warehouse: a readable prefix plus a hash.

    Stable, so every attempt names the same outbound order and a retry finds the first one
    (connectors/warehouses/outbound.py `submit_once`); warehouse-safe (letters, digits, `-`, `_`,
    at most `max_length`). Warehouses hold orders under these strings: the format must not change."""
    digest = hashlib.sha256(f"{order_key}|{warehouse_id}".encode()).hexdigest()[:16]
    order = parse_order_key(order_key)
    readable = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in order.external_id)
    head = f"OH-{order.platform[:3].upper()}-{readable}"[: max_length - 17]
    return f"{head}-{digest}"


def index_reference(pipe: redis.client.Pipeline, prefix: str, seller: str, reference: str, order_key: str) -> None:
    """Queue on `pipe` the entry that leads a warehouse's reference back to its order (the
    submission's own transaction carries it)."""
    pipe.hset(keys.references(prefix, seller), reference, order_key)


def reference_owner(store: _Keyed, seller: str, reference: str) -> str | None:
    """The order key a warehouse client reference was issued for (None: not one of ours)."""
    owner = store.redis.hget(keys.references(store.prefix, seller), reference)
    return owner.decode() if owner else None


def row_digest(row: Any) -> str | None:
    """What a platform list row is recognised by: the stored order remembers the digest of the row it
    was built from (pipeline/sync.py StoredRows). None for a row that is not JSON data: never known,
    always read."""
    try:
        return hashlib.blake2b(orjson.dumps(row, option=orjson.OPT_SORT_KEYS), digest_size=16).hexdigest()
    except TypeError:
        return None
