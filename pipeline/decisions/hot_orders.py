"""The orders Redis still holds, for the decision layer: each with its stage, hold and reservation.

The archive answers history with SQL (pipeline/archive/reader.py); the hot tier has no such index, so
this walks a seller's status indexes (as the archive's closing does) and reads the orders a chunk at a
time in one pipelined round trip each. Orders whose payload never mapped are left out: they have no
lines to count or route.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import msgspec
import orjson

from pipeline import keys
from pipeline.model import Hold, HoldReason, Order, decode_order
from pipeline.stock import Allocation, allocations_of
from pipeline.store import OrderStore

CHUNK = 500


class HotOrder(msgspec.Struct, frozen=True, kw_only=True):
    """One mapped order in Redis: the canonical order, how far Orderhub took it, its hold, and what its
    reservation holds at which warehouse (empty when nothing is reserved, or no more)."""

    order: Order
    stage: str
    hold: Hold | None
    allocations: tuple[Allocation, ...] = ()


def hot_orders(store: OrderStore, seller: str, since: datetime | None = None,
               until: datetime | None = None) -> Iterator[HotOrder]:
    """The seller's mapped orders in Redis placed in [since, until) (either bound open), in no set order."""
    order_keys = store.mapped_keys(seller)
    for start in range(0, len(order_keys), CHUNK):
        chunk = order_keys[start:start + CHUNK]
        pipe = store.redis.pipeline(transaction=False)
        for key in chunk:
            pipe.hmget(keys.order(store.prefix, seller, key), "doc", "stage", "hold", "hold_detail")
            pipe.get(keys.allocation(store.prefix, seller, key))
        replies = pipe.execute()
        for i in range(len(chunk)):
            (doc, stage, hold, detail), allocation = replies[2 * i], replies[2 * i + 1]
            if not doc:
                continue  # gone meanwhile (archived), or never mapped
            order = decode_order(doc)
            if (since is not None and order.placed_at < since) or (until is not None and order.placed_at >= until):
                continue
            yield HotOrder(order=order, stage=(stage or b"").decode(),
                           hold=Hold(HoldReason(hold.decode()), (detail or b"").decode()) if hold else None,
                           allocations=tuple(allocations_of(orjson.loads(allocation))) if allocation else ())
