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
instead (the order keys Redis holds, all of them recent: this is what keeps it so), then one script call
per chunk reads each order's stage and status and, only of those that can be closed, the timeline's last
event and the allocation; `closed_at` then decides on the whole record (pipeline/archive/build.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

import msgspec
import orjson

from pipeline import keys
from pipeline.archive.records import ArchivedOrder, Tracking
from pipeline.model import OrderStatus
from pipeline.release import PARCEL_OUT
from pipeline.stages import OutboundState, Stage
from pipeline.store import OrderStore

CHUNK = 1000
"""Orders per pipelined read."""
_MAY_CLOSE = frozenset(stage.value.encode() for stage in (Stage.SHIPPED, Stage.IGNORED, Stage.CANCELLED))
_CANCELLED = OrderStatus.CANCELLED.value.encode()


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
    if record.hold is not None and record.hold.reason in PARCEL_OUT:
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
    script = store.redis.register_script(_QUIET)
    heads = [family(store.prefix, seller, "") for family in (keys.order, keys.timeline, keys.allocation)]
    for chunk in _chunks(store.mapped_keys(seller)):  # an order that never mapped is not archivable
        replies = script(keys=[], args=[*heads, _CANCELLED, len(_MAY_CLOSE), *_MAY_CLOSE, *chunk])
        for i in range(0, len(replies), 3):
            key, last, allocation = replies[i:i + 3]
            at = datetime.fromisoformat(orjson.loads(last)["at"])
            if at <= quiet_since:
                yield Candidate(key.decode(), at, reserved_units(allocation or None))


# ARGV: the order, timeline and allocation heads (`family(prefix, seller, "")`), the CANCELLED status, the
# number of closing stages and those stages, then the order keys. Returns, flat, (key, last timeline event,
# allocation or false) of each order whose stage or status can be closed and whose timeline is not empty:
# one call per chunk, and a reply only for the orders that may close (most open ones cost none).
_QUIET = """
local o, tl, alloc, cancelled, stages = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local closing = {}
for s = 1, stages do closing[ARGV[5 + s]] = true end
local found = {}
for n = 6 + stages, #ARGV do
  local key = ARGV[n]
  local stage, status = unpack(redis.call('HMGET', o .. key, 'stage', 'status'))
  if (stage and closing[stage]) or status == cancelled then
    local last = redis.call('LINDEX', tl .. key, -1)
    if last then
      found[#found + 1] = key
      found[#found + 1] = last
      found[#found + 1] = redis.call('GET', alloc .. key)
    end
  end
end
return found
"""


def _chunks(items: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
