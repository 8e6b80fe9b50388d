"""An ArchivedOrder from what the Redis store holds of one order, and stock snapshots from the ledger.

`from_stored` is pure (the pieces are passed in), so it is tested without Redis; `collect` reads the
pieces of one order from the store. The store keeps no time on a submission, nor on when tracking
was pushed: those come from the order's timeline, from the events pipeline/dispatch.py and
pipeline/fulfilment.py write at those moments ("{warehouse} ref {reference} (...)", "{warehouse}
outbound {reference} cancelled", "tracking from {warehouse} pushed"); an event not found leaves the
time None. A line's warehouse is the order's only submission, else the one warehouse whose shipments
carry its seller SKU, else None. Orders whose payload never mapped are not archived: there is no
canonical order to file (they stay in Redis, held INVALID_PAYLOAD, until a fixed connector maps them).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime

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
from pipeline.fulfilment import recorded_shipments
from pipeline.model import EventKind, Order, Shipment, TimelineEvent
from pipeline.store import OrderStore, StoredOrder
from pipeline.submissions import Submission, submissions


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
    stored = store.get(seller, key)
    if stored is None:
        return None
    pushed = {wh.decode() for wh in store.redis.smembers(keys.tracking_pushed(store.prefix, seller, key))}
    refused = {wh.decode(): message.decode() for wh, message
               in store.redis.hgetall(keys.tracking_refused(store.prefix, seller, key)).items()}
    return from_stored(stored, timeline=store.timeline(seller, key), submitted=submissions(store, seller, key),
                       shipped=recorded_shipments(store, seller, key), tracking_pushed=pushed,
                       tracking_refused=refused, closed_at=closed_at, sku_map=sku_map)


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
