"""After the warehouse: record shipments, consume stock, and build the tracking push for the platform.

A warehouse reports shipments by our client reference; the reference index (pipeline/identity.py,
written at submission) leads back to the order. Each shipment is recorded once (by warehouse and reference), so polling
the same shipment again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import msgspec

from pipeline import keys
from pipeline.identity import reference_owner
from pipeline.model import EventKind, HoldReason, Order, Shipment, ShipmentLine, utc_now
from pipeline.ports import OutboundStatus, TrackedItem, TrackingPush, WarehouseClient
from pipeline.stages import OutboundState, Stage
from pipeline.stock import StockLedger
from pipeline.store import OrderStore
from pipeline.submissions import submissions
from pipeline.windows import WindowedRead

SHIPMENT_OVERLAP = timedelta(minutes=30)
"""How far before the cursor shipments are read again: a warehouse may stamp a completion earlier
than the moment it shows in its list, and its clock is not ours."""

FIRST_POLL = timedelta(days=2)
"""How far back the first poll of a warehouse reads."""

TRACKING_OVERDUE = timedelta(minutes=15)
"""A recorded shipment whose tracking is still neither pushed nor refused after this long has lost
its push (a worker killed between recording the shipment and queueing the push): it is offered again."""


def _shipments_key(store: OrderStore, seller: str, order_key: str) -> str:
    return keys.shipments(store.prefix, seller, order_key)


def _due_key(store: OrderStore, seller: str, warehouse: str) -> str:
    """Orders with a shipment from `warehouse` whose tracking is not settled yet, scored by when offered."""
    return keys.tracking_due(store.prefix, seller, warehouse)


def recorded_shipments(store: OrderStore, seller: str, order_key: str) -> dict[str, Shipment]:
    raw = store.redis.hgetall(_shipments_key(store, seller, order_key))
    return {wh.decode(): msgspec.json.decode(v, type=Shipment) for wh, v in raw.items()}


def record_shipments(store: OrderStore, ledger: StockLedger, seller: str, warehouse: str,
                     statuses: list[OutboundStatus]) -> list[str]:
    """Store newly shipped outbound orders; returns the order keys whose tracking is to be pushed."""
    to_push = []
    for status in statuses:
        order_key = reference_owner(store, seller, status.reference)
        if order_key is None:
            continue  # not ours (another system's order in the same warehouse account)
        submitted = submissions(store, seller, order_key).get(warehouse)
        if submitted is None or submitted.reference != status.reference:
            continue  # another of our warehouses on the same account: that one records it
        if status.state == OutboundState.EXCEPTION:
            store.hold(seller, order_key, HoldReason.WAREHOUSE_REJECTED,
                       f"{warehouse} put the outbound in exception {status.detail or ''}".strip())
            continue
        if status.state != OutboundState.SHIPPED or not status.tracking_number or status.shipped_at is None:
            continue
        shipment = Shipment(order_key=order_key, warehouse=warehouse, carrier=status.carrier or "Other",
                            tracking_number=status.tracking_number, shipped_at=status.shipped_at,
                            lines=tuple(ShipmentLine(line.seller_sku, line.quantity) for line in status.lines
                                        if line.quantity > 0) or (ShipmentLine("?", 1),))
        recorded = _shipments_key(store, seller, order_key)
        if store.redis.hexists(recorded, warehouse):
            continue
        # Counted out before it is recorded (counting is idempotent by shipment): a run cut off in
        # between counts nothing twice, and never leaves a recorded shipment's units reserved.
        ledger.consume(seller, order_key, warehouse, f"{warehouse}:{status.reference}", status.shipped_at,
                       [(line.seller_sku, line.quantity) for line in shipment.lines])
        store.redis.zadd(_due_key(store, seller, warehouse), {order_key: utc_now().timestamp()}, nx=True)
        if not store.redis.hsetnx(recorded, warehouse, msgspec.json.encode(shipment)):
            continue
        store.append_event(seller, order_key, EventKind.SHIPPED,
                           f"{warehouse} shipped with {shipment.carrier} {shipment.tracking_number}")
        store.set_stage(seller, order_key, Stage.SHIPPED)
        to_push.append(order_key)
    return to_push


def poll_shipments(store: OrderStore, ledger: StockLedger, seller: str, warehouse: str, client: WarehouseClient, *,
                   now: datetime | None = None, slice_length: timedelta | None = None,
                   on_slice: Callable[[list[str]], None] | None = None) -> list[str]:
    """Record what the warehouse shipped since its shipments cursor; returns the keys newly shipped.

    A warehouse that bounds its reads is read in slices of completion time (SliceHint), each recorded
    and passed to `on_slice` (to push its tracking) before the cursor moves past it. Reading the whole
    window at once failed in the 100,000-order chaos run: after a burst of submissions the 4PX list
    since the cursor held thousands of outbound orders, every poll hit its time limit before it
    recorded any, the cursor stood still for good, and 94 orders that 4PX had shipped kept their
    stock reserved and never had their tracking pushed."""
    now = now or utc_now()
    window = WindowedRead(store, seller, warehouse, "shipments", overlap=SHIPMENT_OVERLAP, now=now,
                          horizon=now, first_read=FIRST_POLL)
    shipped: list[str] = []

    def read(lower: datetime, upper: datetime) -> list[str]:
        # The last slice is left open, so a warehouse clock ahead of ours cannot hide fresh shipments.
        statuses = client.shipments_since(lower, upper if upper < now else None)
        keys = record_shipments(store, ledger, seller, warehouse, statuses)
        shipped.extend(keys)
        return keys

    # A warehouse that cannot bound a read by `until` is read in one go: slicing it would read to
    # the present once per slice.
    window.run(read, on_slice, slice_length=slice_length if client.bounds_shipment_reads else None)
    return shipped


def tracking_push(order: Order, shipment: Shipment) -> TrackingPush:
    """The platform's view of a package: its line ids and units. A line whose ids number its units
    (unit-per-row platforms) is pushed id by id, one unit each; otherwise one id with its quantity."""
    shipped = {line.seller_sku: line.quantity for line in shipment.lines}
    items: list[TrackedItem] = []
    for line in order.lines:
        units = min(shipped.get(line.seller_sku or line.platform_sku, 0), line.quantity - line.cancelled_quantity)
        if units <= 0:
            continue
        if len(line.line_ids) == line.quantity > 1:
            items.extend(TrackedItem(line_id, 1) for line_id in line.line_ids[line.shipped_quantity:][:units])
        else:
            items.append(TrackedItem(line.line_ids[0], units))
    return TrackingPush(external_id=order.external_id, carrier=shipment.carrier,
                        tracking_number=shipment.tracking_number, shipped_at=shipment.shipped_at,
                        items=tuple(items), package_ref=f"{shipment.warehouse}:{shipment.tracking_number}")


def mark_tracking_pushed(store: OrderStore, seller: str, order_key: str, warehouse: str) -> bool:
    """True the first time only (so a redelivered task pushes once)."""
    first = store.redis.sadd(keys.tracking_pushed(store.prefix, seller, order_key), warehouse) == 1
    store.redis.zrem(_due_key(store, seller, warehouse), order_key)
    if first:
        store.append_event(seller, order_key, EventKind.TRACKING_PUSHED, f"tracking from {warehouse} pushed")
    return first


def mark_tracking_refused(store: OrderStore, seller: str, order_key: str, warehouse: str, message: str) -> bool:
    """The platform refused this shipment's tracking (e.g. the order was already shipped another way):
    recorded once, for an operator to look at; it is not retried."""
    first = store.redis.hset(keys.tracking_refused(store.prefix, seller, order_key), warehouse, message) == 1
    store.redis.zrem(_due_key(store, seller, warehouse), order_key)
    if first:
        store.append_event(seller, order_key, EventKind.NOTE, f"tracking from {warehouse} refused: {message}")
    return first


def overdue_tracking(store: OrderStore, seller: str, warehouse: str, now: datetime | None = None,
                     limit: int = 500) -> list[str]:
    """Orders whose tracking from `warehouse` has waited TRACKING_OVERDUE since it was recorded or
    last offered: each is offered again (and not before another TRACKING_OVERDUE)."""
    now = now or utc_now()
    due = _due_key(store, seller, warehouse)
    keys = [k.decode() for k in store.redis.zrangebyscore(due, "-inf", (now - TRACKING_OVERDUE).timestamp(),
                                                           start=0, num=limit)]
    if keys:
        store.redis.zadd(due, dict.fromkeys(keys, now.timestamp()), xx=True)
    return keys


def tracking_unsettled(store: OrderStore, seller: str, warehouses: list[str]) -> int:
    """How many recorded shipments still wait for their tracking to be pushed or refused."""
    pipe = store.redis.pipeline(transaction=False)
    for warehouse in warehouses:
        pipe.zcard(_due_key(store, seller, warehouse))
    return sum(pipe.execute())


def tracking_was_pushed(store: OrderStore, seller: str, order_key: str, warehouse: str) -> bool:
    return bool(store.redis.sismember(keys.tracking_pushed(store.prefix, seller, order_key), warehouse))


