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
from pipeline.model import Address, EventKind, utc_now
from pipeline.stages import Stage
from pipeline.stock import StockLedger
from pipeline.store import OrderStore
from pipeline.store_reads import decode_many


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
    return _decoded(store.redis.hgetall(_key(store, seller, order_key)))


def _decoded(raw: dict[bytes, bytes]) -> dict[str, Submission]:
    """An order's submissions hash (keys.submitted) as warehouse -> Submission."""
    return {wh.decode(): msgspec.convert(orjson.loads(v), Submission) for wh, v in raw.items()}


def submissions_many(store: OrderStore, seller: str, order_keys: Sequence[str]) -> list[dict[str, Submission]]:
    """`submissions` of each key, in one round trip."""
    if not order_keys:
        return []
    pipe = store.redis.pipeline(transaction=False)
    for order_key in order_keys:
        pipe.hgetall(_key(store, seller, order_key))
    return [_decoded(raw) for raw in pipe.execute()]


def submitted_per_warehouse(store: OrderStore, seller: str, order_keys: Sequence[str]) -> Counter[str]:
    """How many of `order_keys` each warehouse was sent (an order split across two counts at both)."""
    pipe = store.redis.pipeline(transaction=False)
    for order_key in order_keys:
        pipe.hkeys(_key(store, seller, order_key))
    return Counter(wh.decode() for warehouses in pipe.execute() for wh in warehouses)


def record(store: OrderStore, seller: str, order_key: str, sub: Submission, *, submitted: str = "",
           last: bool = False, batch: Records | None = None) -> None:
    """Record a submission; with `submitted` (the timeline detail) its event goes in the same transaction,
    and with `last` (no allocation left to submit) the stage too: one round trip instead of three. Given
    a batch, the writes wait for its `flush` (one transaction for every order of a dispatch task)."""
    own = batch is None
    pipe = store.redis.pipeline(transaction=True) if own else batch.pipe
    pipe.hset(_key(store, seller, order_key), sub.warehouse, orjson.dumps(msgspec.to_builtins(sub)))
    identity.index_reference(pipe, store.prefix, seller, sub.reference, order_key)
    if submitted:
        if own:
            store.append_event(seller, order_key, EventKind.SUBMITTED, submitted, pipe=pipe)
        else:
            batch.events.append((order_key, EventKind.SUBMITTED, submitted, utc_now()))
    if last:
        store.set_stage(seller, order_key, Stage.SUBMITTED, pipe=pipe)
    if own:
        pipe.execute()


class Records:
    """The submissions of a dispatch batch, written in one transaction at its end (`flush`, in a
    `finally`, so a batch cut short by a retry still records what the warehouses confirmed). Until
    then a warehouse has an outbound we have not recorded, as between a create and its record alone:
    a re-run submits again under the same reference, which the warehouse keeps to one outbound."""

    def __init__(self, store: OrderStore, seller: str) -> None:
        self.store, self.seller = store, seller
        self.pipe = store.redis.pipeline(transaction=True)
        self.events: list[tuple] = []

    def flush(self) -> None:
        self.store.append_events(self.seller, self.events, self.pipe)
        if len(self.pipe):
            self.pipe.execute()
        self.pipe = self.store.redis.pipeline(transaction=True)
        self.events = []


def preload(store: OrderStore, ledger: StockLedger, seller: str, order_keys: Sequence[str]) -> dict[str, tuple]:
    """(stored order, submissions, allocation rows) of each key, read in one round trip for a batch."""
    pipe = store.redis.pipeline(transaction=False)
    store.get_many(seller, order_keys, pipe=pipe)
    for order_key in order_keys:
        pipe.hgetall(_key(store, seller, order_key))
    ledger.allocation_many(seller, order_keys, pipe)
    replies, n = pipe.execute(), len(order_keys)
    stored = decode_many(order_keys, replies[:n])
    subs = [_decoded(raw) for raw in replies[n:2 * n]]
    return {key: (one, sub, raw) for key, one, sub, raw in zip(order_keys, stored, subs, replies[2 * n:], strict=True)}
