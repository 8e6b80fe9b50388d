"""The record of what each warehouse was sent for an order: its reference, its state, where it ships.

One hash per order (`keys.submitted`, warehouse → Submission), and with each submission its entry in
the reverse index from a warehouse client reference to its order (pipeline/identity.py). A
submission is recorded only after the warehouse confirmed it; the ship-to it carries is what that
warehouse will deliver to, so a later change of the order's address can be compared with it
(pipeline/address_changes.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import msgspec
import orjson

from pipeline import identity, keys
from pipeline.model import Address, EventKind
from pipeline.stages import Stage
from pipeline.store import OrderStore


class Submission(msgspec.Struct, frozen=True):
    warehouse: str
    reference: str
    remote_id: str
    state: str  # a pipeline.stages.OutboundState, as stored
    ship_to: Address | None = None  # where the outbound ships (None: recorded before addresses were kept)
    refused_ship_to: Address | None = None  # a later ship-to the warehouse would not take


def _key(store: OrderStore, seller: str, order_key: str) -> str:
    return keys.submitted(store.prefix, seller, order_key)


def submissions(store: OrderStore, seller: str, order_key: str) -> dict[str, Submission]:
    raw = store.redis.hgetall(_key(store, seller, order_key))
    return {wh.decode(): msgspec.convert(orjson.loads(v), Submission) for wh, v in raw.items()}


def submitted_among(store: OrderStore, seller: str, order_keys: Sequence[str]) -> list[str]:
    """Those of `order_keys` that some warehouse was sent (one round trip)."""
    pipe = store.redis.pipeline(transaction=False)
    for order_key in order_keys:
        pipe.exists(_key(store, seller, order_key))
    return [key for key, found in zip(order_keys, pipe.execute(), strict=True) if found]


def submitted_per_warehouse(store: OrderStore, seller: str, order_keys: Sequence[str]) -> Counter[str]:
    """How many of `order_keys` each warehouse was sent (an order split across two counts at both)."""
    pipe = store.redis.pipeline(transaction=False)
    for order_key in order_keys:
        pipe.hkeys(_key(store, seller, order_key))
    return Counter(wh.decode() for warehouses in pipe.execute() for wh in warehouses)


def record(store: OrderStore, seller: str, order_key: str, sub: Submission, *, submitted: str = "",
           last: bool = False) -> None:
    """Record a submission; with `submitted` (the timeline detail) its event goes in the same transaction,
    and with `last` (no allocation left to submit) the stage too: one round trip instead of three."""
    pipe = store.redis.pipeline(transaction=True)
    pipe.hset(_key(store, seller, order_key), sub.warehouse, orjson.dumps(msgspec.to_builtins(sub)))
    identity.index_reference(pipe, store.prefix, seller, sub.reference, order_key)
    if submitted:
        store.append_event(seller, order_key, EventKind.SUBMITTED, submitted, pipe=pipe)
    if last:
        store.set_stage(seller, order_key, Stage.SUBMITTED, pipe=pipe)
    pipe.execute()
