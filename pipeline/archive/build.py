"""An ArchivedOrder from what the Redis store holds of one order, and stock snapshots from the ledger.

`from_stored` is pure (the pieces are passed in), so it is tested without Redis; `collect_many` reads
the pieces of a batch of orders from the store in one script call (a move reads 500 at a time),
`collect` those of one. The store keeps no time on a submission, nor on when tracking was pushed:
those come from the order's timeline, from the events pipeline/dispatch.py and pipeline/fulfilment.py
write at those moments ("{warehouse} ref {reference} (...)", "{warehouse}
outbound {reference} cancelled", "tracking from {warehouse} pushed"); an event not found leaves the
time None. A line's warehouse is the order's only submission, else the one warehouse whose shipments
carry its seller SKU, else None. Orders whose payload never mapped are not archived: there is no
canonical order to file (they stay in Redis, held INVALID_PAYLOAD, until a fixed connector maps them).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime

import msgspec

from config.schema import SkuMapConfig
from pipeline import keys
from pipeline.archive.records import (
    ArchivedLine,
    ArchivedOrder,
    ArchivedShipment,
    ArchivedSubmission,
    StockSnapshot,
    Tracking,
)
from pipeline.model import EventKind, Hold, HoldReason, Order, Shipment, TimelineEvent
from pipeline.store import OrderStore, StoredOrder
from pipeline.submissions import Submission


class NotArchivable(ValueError):
    """The stored order cannot be archived (its payload never mapped to a canonical order)."""


def from_stored(stored: StoredOrder, *, timeline: Sequence[TimelineEvent] = (),
                submitted: Mapping[str, Submission] | None = None, shipped: Mapping[str, Shipment] | None = None,
                tracking_pushed: Collection[str] = (), tracking_refused: Mapping[str, str] | None = None,
                closed_at: datetime | None = None, sku_map: SkuMapConfig | None = None) -> ArchivedOrder:
    """The archive record of one stored order. `sku_map` (the seller's) fills the seller SKU of lines
    whose payload named none, as routing does; without it a line keeps what the platform said."""
    order = stored.order
    if order is None:
        raise NotArchivable(f"{stored.key}: the payload never mapped, so there is no order to archive")
    submitted, shipped, refused = submitted or {}, shipped or {}, tracking_refused or {}
    skus = [_seller_sku(order, i, sku_map) for i in range(len(order.lines))]
    return ArchivedOrder(
        seller=order.seller, key=order.key, platform=order.platform, shop_id=order.shop_id,
        external_id=order.external_id, platform_status=order.platform_status, status=order.status,
        fulfilled_by=order.fulfilled_by, placed_at=order.placed_at, updated_at=order.updated_at,
        currency=order.currency, payload_hash=stored.payload_hash, raw=stored.raw, stage=stored.stage,
        hold=stored.hold, ship_by=order.ship_by, closed_at=closed_at, totals=order.totals, ship_to=order.ship_to,
        notes=order.notes, timeline=tuple(timeline),
        lines=tuple(
            ArchivedLine(line_no=i, line_ids=line.line_ids, platform_sku=line.platform_sku, quantity=line.quantity,
                         title=line.title, seller_sku=skus[i], cancelled_quantity=line.cancelled_quantity,
                         shipped_quantity=line.shipped_quantity, unit_price=line.unit_price,
                         warehouse=_line_warehouse(skus[i], submitted, shipped))
            for i, line in enumerate(order.lines)),
        submissions=tuple(_submission(sub, timeline) for _, sub in sorted(submitted.items())),
        shipments=tuple(_shipment(wh, shipment, timeline, wh in tracking_pushed, refused.get(wh))
                        for wh, shipment in sorted(shipped.items())),
    )


def collect(store: OrderStore, seller: str, key: str, *, closed_at: datetime | None = None,
            sku_map: SkuMapConfig | None = None) -> ArchivedOrder | None:
    """The archive record of one order as Redis holds it now (None: not stored). Raises NotArchivable
    for an order whose payload never mapped."""
    (found,) = collect_many(store, seller, [key], sku_map=sku_map)
    if isinstance(found, NotArchivable):
        raise found
    return found if found is None or closed_at is None else msgspec.structs.replace(found, closed_at=closed_at)


def collect_many(store: OrderStore, seller: str, order_keys: Sequence[str], *,
                 sku_map: SkuMapConfig | None = None) -> list[ArchivedOrder | NotArchivable | None]:
    """`collect` for many orders in one round trip: per key, in order, its record, None (not stored), or
    the NotArchivable it would raise (returned, so one unmapped order does not sink its batch)."""
    if not order_keys:
        return []
    prefix = store.prefix
    heads = [family(prefix, seller, "") for family in _READ_FAMILIES]
    replies = store.redis.register_script(_READ)(keys=[], args=[*heads, *order_keys])
    found: list[ArchivedOrder | NotArchivable | None] = []
    for n, key in enumerate(order_keys):
        raw, pieces = replies[2 * n], replies[2 * n + 1]
        if pieces is None:
            found.append(None)
            continue
        read = _PIECES.decode(pieces)
        stored = StoredOrder(key=key, order=read.doc, raw=raw or b"", payload_hash=read.hash, stage=read.stage,
                             hold=Hold(HoldReason(read.hold), read.hold_detail) if read.hold else None)
        try:
            found.append(from_stored(stored, timeline=read.timeline, submitted=read.submitted,
                                     shipped=read.shipments, tracking_pushed=set(read.pushed),
                                     tracking_refused=read.refused, sku_map=sku_map))
        except NotArchivable as exc:
            found.append(exc)
    return found


_READ_FAMILIES = (keys.order, keys.timeline, keys.submitted, keys.shipments, keys.tracking_pushed,
                  keys.tracking_refused)
# ARGV: the heads of _READ_FAMILIES (`family(prefix, seller, "")`), then the order keys. Per order two
# replies: its raw payload, and the rest as one JSON document (_Pieces), or two nils when it is not
# stored. The JSON the store holds (the doc, timeline events, submissions, shipments) is spliced in as
# it is; names and refusal messages go through cjson. One reply of a few elements per order instead of
# six commands' worth: redis-py's parser, in Python, costs per element, and it was most of a move.
_READ = """
local function quoted(value) return value and cjson.encode(value) or 'null' end
local function object(flat, as_json)
  local parts = {}
  for j = 1, #flat, 2 do
    parts[#parts + 1] = cjson.encode(flat[j]) .. ':' .. (as_json and flat[j + 1] or cjson.encode(flat[j + 1]))
  end
  return '{' .. table.concat(parts, ',') .. '}'
end
local o, tl, sub, ship, pushed, refused = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local replies = {}
for n = 7, #ARGV do
  local key = ARGV[n]
  if redis.call('EXISTS', o .. key) == 1 then
    local f = redis.call('HMGET', o .. key, 'raw', 'doc', 'hash', 'hold', 'hold_detail', 'stage')
    local names = {}
    for _, name in ipairs(redis.call('SMEMBERS', pushed .. key)) do names[#names + 1] = cjson.encode(name) end
    replies[#replies + 1] = f[1] or ''
    replies[#replies + 1] = '{"doc":' .. (f[2] or 'null') .. ',"hash":' .. quoted(f[3] or '') ..
      ',"hold":' .. quoted(f[4]) .. ',"hold_detail":' .. quoted(f[5] or '') .. ',"stage":' .. quoted(f[6] or '') ..
      ',"timeline":[' .. table.concat(redis.call('LRANGE', tl .. key, 0, -1), ',') .. ']' ..
      ',"submitted":' .. object(redis.call('HGETALL', sub .. key), true) ..
      ',"shipments":' .. object(redis.call('HGETALL', ship .. key), true) ..
      ',"pushed":[' .. table.concat(names, ',') .. ']' ..
      ',"refused":' .. object(redis.call('HGETALL', refused .. key), false) .. '}'
  else
    replies[#replies + 1] = false
    replies[#replies + 1] = false
  end
end
return replies
"""


class _Pieces(msgspec.Struct):
    """What `_READ` returns of one stored order but its raw payload: the order hash's fields as
    StoreReads.get reads them, and the order's other keys as pipeline/submissions.py and
    pipeline/fulfilment.py decode them."""

    doc: Order | None
    hash: str
    hold: str | None
    hold_detail: str
    stage: str
    timeline: list[TimelineEvent]
    submitted: dict[str, Submission]
    shipments: dict[str, Shipment]
    pushed: list[str]
    refused: dict[str, str]


_PIECES = msgspec.json.Decoder(_Pieces)


def snapshots_from_ledger(seller: str, warehouse: str, totals: Mapping[str, Mapping[str, int]],
                          taken_at: datetime) -> list[StockSnapshot]:
    """One day's snapshot rows from `StockLedger.totals(seller, warehouse)` read at `taken_at`."""
    day = taken_at.astimezone(UTC).date()
    return [StockSnapshot(seller=seller, day=day, warehouse=warehouse, seller_sku=sku,
                          on_hand=counts.get("on_hand", 0), reserved=counts.get("reserved", 0),
                          in_doubt=counts.get("in_doubt", 0), shipped=counts.get("shipped", 0), taken_at=taken_at)
            for sku, counts in sorted(totals.items())]


def _seller_sku(order: Order, index: int, sku_map: SkuMapConfig | None) -> str | None:
    line = order.lines[index]
    if sku_map is None:
        return line.seller_sku
    return sku_map.seller_sku(order.platform, line.platform_sku, line.seller_sku)


def _line_warehouse(seller_sku: str | None, submitted: Mapping[str, Submission],
                    shipped: Mapping[str, Shipment]) -> str | None:
    if len(submitted) == 1:
        return next(iter(submitted))
    carriers = {wh for wh, shipment in shipped.items() if any(line.seller_sku == seller_sku for line in shipment.lines)}
    return carriers.pop() if len(carriers) == 1 else None


def _submission(sub: Submission, timeline: Sequence[TimelineEvent]) -> ArchivedSubmission:
    sent = _first(timeline, EventKind.SUBMITTED, lambda d: d.startswith(f"{sub.warehouse} ref {sub.reference}"))
    cancelled = _first(timeline, EventKind.CANCELLED, lambda d: d == f"{sub.warehouse} outbound {sub.reference} cancelled")
    return ArchivedSubmission(warehouse=sub.warehouse, reference=sub.reference, remote_id=sub.remote_id,
                              state=str(sub.state), submitted_at=sent, cancelled_at=cancelled)


def _shipment(warehouse: str, shipment: Shipment, timeline: Sequence[TimelineEvent], pushed: bool,
              refusal: str | None) -> ArchivedShipment:
    tracking = Tracking.PUSHED if pushed else Tracking.REFUSED if refusal is not None else Tracking.PENDING
    pushed_at = (_first(timeline, EventKind.TRACKING_PUSHED, lambda d: d == f"tracking from {warehouse} pushed")
                 if pushed else None)
    return ArchivedShipment(warehouse=warehouse, carrier=shipment.carrier, tracking_number=shipment.tracking_number,
                            shipped_at=shipment.shipped_at, lines=shipment.lines, tracking=tracking,
                            tracking_pushed_at=pushed_at, tracking_refusal=refusal)


def _first(timeline: Sequence[TimelineEvent], kind: EventKind, matches: Callable[[str], bool]) -> datetime | None:
    return next((event.at for event in timeline if event.kind == kind and matches(event.detail)), None)
