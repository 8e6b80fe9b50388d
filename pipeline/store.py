"""The order store on Redis: idempotent batch upserts, timelines, holds and sync cursors.

Every key lives under the seller's base (pipeline/keys.py), so sellers and test runs never collide;
the Lua scripts (pipeline/store_scripts.py) build their keys from that base, and keys.py names the
families they build. A batch upsert is one Lua call (one round trip): an identical payload hash writes
nothing, an older platform update never replaces a newer one, and a payload that did not map is kept
raw and held. The reads and queries are in pipeline/store_reads.py, which `OrderStore` inherits.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import msgspec
import orjson
import redis

from pipeline import keys
from pipeline.model import Address, EventKind, HoldReason, Order, encode, utc_now
from pipeline.stages import Stage
from pipeline.store_reads import UNMAPPED as UNMAPPED
from pipeline.store_reads import OrderState as OrderState
from pipeline.store_reads import StoredOrder as StoredOrder
from pipeline.store_reads import StoreReads
from pipeline.store_scripts import StoreScripts, hash_head


class UpsertResult(enum.StrEnum):
    NEW = "NEW"
    UPDATED = "UPDATED"
    UNCHANGED = "UNCHANGED"  # identical payload hash: nothing written
    STALE = "STALE"  # the platform's update time is older than the stored one: nothing written
    ARCHIVED = "ARCHIVED"  # moved to the archive and listed again unchanged: nothing written
    RELISTED = "RELISTED"  # moved to the archive and listed again changed: nothing written here (see sync)


_WRITTEN = (UpsertResult.NEW, UpsertResult.UPDATED)


class Received(msgspec.Struct, frozen=True, kw_only=True):
    """One order as fetched: its raw bundle and either the canonical order or why it did not map."""

    key: str
    platform: str
    shop_id: str
    raw: bytes
    payload_hash: str
    updated_at: datetime | None
    order: Order | None = None
    error: str | None = None


def _micros(moment: datetime | None) -> int:
    return 0 if moment is None else int(moment.timestamp() * 1_000_000)


class OrderStore(StoreReads):
    """All reads and writes of orders, timelines, holds and cursors for every seller."""

    def __init__(self, client: redis.Redis, prefix: str = "orderhub") -> None:
        self.redis = client
        self.prefix = prefix
        self._scripts = StoreScripts(client)

    # -- writes ------------------------------------------------------------------------------

    def restore(self, seller: str, item: Received) -> UpsertResult:
        """Store `item` over the stored copy even though its payload hash is the same: a raw payload kept
        after it failed to map, mapped again by a fixed connector. Writes as the upsert does (a mapped copy
        releases the INVALID_PAYLOAD hold; one that still fails keeps it, with the new error)."""
        self.redis.hdel(keys.order(self.prefix, seller, item.key), "hash")
        (result,) = self.upsert(seller, [item])
        return result

    def upsert(self, seller: str, items: Sequence[Received]) -> list[UpsertResult]:
        """Store a batch in one round trip; one result per item, in order."""
        if not items:
            return []
        args: list[object] = [self.prefix, seller, utc_now().isoformat()]
        for item in items:
            args.extend(self._item_args(seller, item))
        results = [UpsertResult(r.decode() if isinstance(r, bytes) else r)
                   for r in self._scripts.upsert(keys=[], args=args)]
        self._write_notes(seller, items, results)
        return results

    def _write_notes(self, seller: str, items: Sequence[Received], results: Sequence[UpsertResult]) -> None:
        """The mapping's notes on each order stored new or changed (e.g. a 0-quantity item it dropped) as
        timeline notes, in one round trip; nothing when no order has any (the usual case)."""
        noted = [(item.key, item.order.notes) for item, result in zip(items, results, strict=True)
                 if item.order is not None and item.order.notes and result in _WRITTEN]
        if not noted:
            return
        pipe = self.redis.pipeline(transaction=False)
        for key, notes in noted:
            for note in notes:
                self.append_event(seller, key, EventKind.NOTE, note, pipe=pipe)
        pipe.execute()

    def _item_args(self, seller: str, item: Received) -> list[object]:
        """The upsert script's 12 values for one item; the last three find its tombstone, if it was
        archived: the hash of its shop and placed day, its external id, its payload hash's head."""
        order = item.order
        if order is not None:
            tombs = keys.tombstones(self.prefix, seller, order.platform, order.shop_id,
                                    order.placed_at.astimezone(UTC).date())
            return [item.key, item.payload_hash, _micros(order.updated_at), order.status.value, item.platform,
                    encode(order), item.raw, "", item.shop_id, tombs, order.external_id, hash_head(item.payload_hash)]
        # A payload that did not map has no placed day, so its tombstone cannot be found: the check is
        # skipped and it is stored and held INVALID_PAYLOAD as any unmapped payload, archived order or not.
        return [item.key, item.payload_hash, _micros(item.updated_at), UNMAPPED, item.platform, b"",
                item.raw, item.error or "payload did not map", item.shop_id, "", "", b""]

    def append_event(self, seller: str, key: str, kind: EventKind, detail: str = "",
                     pipe: redis.client.Pipeline | None = None, addresses: Mapping[str, Address] | None = None
                     ) -> None:
        """Add to the order's timeline; given a pipeline, only queue the commands on it (the caller's
        round trip carries them)."""
        own = pipe is None
        pipe = self.redis.pipeline(transaction=False) if own else pipe
        pipe.rpush(self._timeline_key(seller, key), _event_json(kind, detail, addresses))
        pipe.hincrby(keys.event_counts(self.prefix, seller), kind.value, 1)
        if own:
            pipe.execute()

    def append_events(self, seller: str, events: Sequence[tuple[str, EventKind, str, datetime]],
                      pipe: redis.client.Pipeline) -> None:
        """`append_event` for a batch of (key, kind, detail, when it happened), queued on `pipe`: one RPUSH
        per order, and the counters once per kind instead of once per event. Each event keeps the time
        its decision was made, not the time the batch wrote it, so timelines order events as they happened."""
        counts: dict[str, int] = {}
        for key, kind, detail, at in events:
            pipe.rpush(self._timeline_key(seller, key), _event_json(kind, detail, at=at))
            counts[kind.value] = counts.get(kind.value, 0) + 1
        for kind_value, n in counts.items():
            pipe.hincrby(keys.event_counts(self.prefix, seller), kind_value, n)

    def event_counts(self, seller: str) -> dict[str, int]:
        """How many events of each kind (and holds per reason, as `held:REASON`) ever happened."""
        return {k.decode(): int(v) for k, v in self.redis.hgetall(keys.event_counts(self.prefix, seller)).items()}

    def hold(self, seller: str, key: str, reason: HoldReason, detail: str) -> None:
        """Hold an order with a reason an operator can act on (replaces any earlier hold)."""
        base = keys.seller_base(self.prefix, seller)
        self._scripts.hold(
            keys=[self._order_key(seller, key), self._timeline_key(seller, key)],
            args=[base, key, reason.value, detail, _event_json(EventKind.HELD, f"{reason.value}: {detail}")],
        )

    def release(self, seller: str, key: str, detail: str = "") -> HoldReason | None:
        base = keys.seller_base(self.prefix, seller)
        old = self._scripts.release(
            keys=[self._order_key(seller, key), self._timeline_key(seller, key)],
            args=[base, key, _event_json(EventKind.RELEASED, detail)],
        )
        old = old.decode() if isinstance(old, bytes) else old
        return HoldReason(old) if old else None

    def set_stage(self, seller: str, key: str, stage: Stage, pipe: redis.client.Pipeline | None = None) -> None:
        (pipe if pipe is not None else self.redis).hset(self._order_key(seller, key), "stage", stage)

    def remember_rows(self, seller: str, digests: Mapping[str, str]) -> None:
        """Note the list row each stored order was built from; a key not stored is left alone."""
        if digests:
            self._scripts.remember_rows(keys=[self._order_key(seller, key) for key in digests],
                                        args=list(digests.values()))

    # -- sync cursors: they move only when told to ------------------------------------------

    def cursor(self, seller: str, shop_id: str, stream: str = "orders") -> datetime | None:
        value = self.redis.get(keys.cursor(self.prefix, seller, shop_id, stream))
        return datetime.fromisoformat(value.decode()) if value else None

    def cursor_read_at(self, seller: str, shop_id: str, stream: str = "orders") -> datetime | None:
        """When the run that moved the cursor last started (None: unknown, e.g. set by hand)."""
        value = self.redis.get(keys.cursor_read_at(self.prefix, seller, shop_id, stream))
        return datetime.fromisoformat(value.decode()) if value else None

    def set_cursor(self, seller: str, shop_id: str, moment: datetime, stream: str = "orders",
                   read_at: datetime | None = None) -> None:
        """Move the cursor; `read_at` is when the run that read up to it started (see sync_orders)."""
        if moment.tzinfo is None or (read_at is not None and read_at.tzinfo is None):
            raise ValueError("cursor must be timezone-aware")
        read_at_key = keys.cursor_read_at(self.prefix, seller, shop_id, stream)
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(keys.cursor(self.prefix, seller, shop_id, stream), moment.astimezone(UTC).isoformat())
        if read_at is None:
            pipe.delete(read_at_key)
        else:
            pipe.set(read_at_key, read_at.astimezone(UTC).isoformat())
        pipe.execute()


def _event_json(kind: EventKind, detail: str, addresses: Mapping[str, Address] | None = None,
                at: datetime | None = None) -> bytes:
    event: dict[str, object] = {"at": (at or utc_now()).isoformat(), "kind": kind.value, "detail": detail}
    if addresses:
        event["addresses"] = {name: msgspec.to_builtins(address) for name, address in addresses.items()}
    return orjson.dumps(event)
