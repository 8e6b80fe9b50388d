"""When an order is closed, and which stored orders may be: what leaves Redis for the archive.

Closed means Orderhub has nothing left to do for the order and nothing left to hear about it:
- shipped: every outbound not cancelled has a recorded shipment, and the platform took or refused
  the tracking of every shipment (no hold: a hold asks ops for something);
- cancelled: the platform cancelled it and every outbound was cancelled (no CANCEL_TOO_LATE or
  ADDRESS_CHANGED_AFTER_SUBMIT hold: a parcel is out there for ops to chase);
- ignored: the platform fulfils it, or it shipped before any warehouse had it (stage IGNORED, no hold).
In every case no stock may still be reserved for it (an allocation whose units all shipped reserves
none). The close time is the time of its last timeline event: what closed it is the last thing that
happened to it, and anything later (a late platform update) only makes it younger.

No index of closed orders is kept: the facts sit in six places written by five modules, and an index
written at each would be one more thing to get wrong there. `quiet_candidates` reads the status indexes
instead (the order keys Redis holds, all of them recent: this is what keeps it so) with one pipelined
HMGET per chunk, and reads the timeline's last event and the allocation only of the orders whose stage
or status can be closed; `closed_at` then decides on the whole record (pipeline/archive/build.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import msgspec
import orjson

from pipeline import keys
from pipeline.archive.records import ArchivedOrder, Tracking
from pipeline.model import HoldReason, OrderStatus
from pipeline.stages import OutboundState, Stage
from pipeline.store import UNMAPPED, OrderStore

CHUNK = 1000
"""Orders per pipelined read."""
_MAY_CLOSE = frozenset(stage.value.encode() for stage in (Stage.SHIPPED, Stage.IGNORED, Stage.CANCELLED))
_CANCELLED = OrderStatus.CANCELLED.value.encode()
_PARCEL_OUT = (HoldReason.CANCEL_TOO_LATE, HoldReason.ADDRESS_CHANGED_AFTER_SUBMIT)


class Candidate(msgspec.Struct, frozen=True):
    """A stored order that may be closed, quiet since `last_event_at`, with `reserved` units still held."""

    key: str
    last_event_at: datetime
    reserved: int


def closed_at(record: ArchivedOrder, reserved: int = 0) -> datetime | None:
    """When the order closed (its last timeline event), or None while it is open."""
    if reserved > 0 or not (_shipped(record) or _cancelled(record) or _ignored(record)):
        return None
    return max((event.at for event in record.timeline), default=record.updated_at)


def _shipped(record: ArchivedOrder) -> bool:
    if record.hold is not None or not record.shipments:
        return False
    shipped = {shipment.warehouse for shipment in record.shipments}
    outbound = {sub.warehouse for sub in record.submissions if sub.state != OutboundState.CANCELLED}
    return outbound <= shipped and all(s.tracking is not Tracking.PENDING for s in record.shipments)


def _cancelled(record: ArchivedOrder) -> bool:
    if record.status is not OrderStatus.CANCELLED:
        return False
    if record.hold is not None and record.hold.reason in _PARCEL_OUT:
        return False
    return all(sub.state == OutboundState.CANCELLED for sub in record.submissions)


def _ignored(record: ArchivedOrder) -> bool:
    return record.stage == Stage.IGNORED and record.hold is None


def reserved_units(allocation: bytes | None) -> int:
    """Units an allocation (keys.allocation, JSON [[warehouse, sku, qty], ...]) still reserves."""
    return sum(max(0, int(row[2])) for row in orjson.loads(allocation)) if allocation else 0


def quiet_candidates(store: OrderStore, seller: str, quiet_since: datetime) -> Iterator[Candidate]:
    """The stored orders whose stage or status can be closed and whose timeline has not moved since
    `quiet_since`; whether each is closed is `closed_at`'s to say."""
    for chunk in _chunks(_mapped_keys(store, seller)):
        pipe = store.redis.pipeline(transaction=False)
        for key in chunk:
            pipe.hmget(keys.order(store.prefix, seller, key), "stage", "status")
        maybe = [key for key, (stage, status) in zip(chunk, pipe.execute(), strict=True)
                 if stage in _MAY_CLOSE or status == _CANCELLED]
        for key in maybe:
            pipe.lindex(keys.timeline(store.prefix, seller, key), -1)
            pipe.get(keys.allocation(store.prefix, seller, key))
        replies = pipe.execute()
        for i, key in enumerate(maybe):
            last, allocation = replies[2 * i], replies[2 * i + 1]
            if last is None:
                continue
            at = datetime.fromisoformat(orjson.loads(last)["at"])
            if at <= quiet_since:
                yield Candidate(key, at, reserved_units(allocation))


def _mapped_keys(store: OrderStore, seller: str) -> list[str]:
    """Every order key in a status index but UNMAPPED's (an order that never mapped is not archivable)."""
    found: set[str] = set()
    for index in store.redis.scan_iter(match=keys.status_index_pattern(store.prefix, seller), count=500):
        _, status = keys.parse_status_index(store.prefix, seller, index.decode())
        if status != UNMAPPED:
            found.update(member.decode() for member in store.redis.smembers(index))
    return sorted(found)


def _chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
