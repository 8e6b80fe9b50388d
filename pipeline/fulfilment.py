"""After the warehouse: record shipments, consume stock, and build the tracking push for the platform.

A warehouse reports shipments by our client reference; the reference index (written at submission)
leads back to the order. Each shipment is recorded once (by warehouse and reference), so polling
the same shipment again changes nothing.
"""

from __future__ import annotations

import msgspec

from pipeline.dispatch import reference_owner, submissions
from pipeline.model import EventKind, HoldReason, Order, Shipment, ShipmentLine
from pipeline.ports import OutboundStatus, TrackedItem, TrackingPush
from pipeline.stock import StockLedger
from pipeline.store import OrderStore


def _shipments_key(store: OrderStore, seller: str, order_key: str) -> str:
    return f"{store.prefix}:{seller}:shipments:{order_key}"


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
        if status.state == "EXCEPTION":
            store.hold(seller, order_key, HoldReason.WAREHOUSE_REJECTED,
                       f"{warehouse} put the outbound in exception {status.detail or ''}".strip())
            continue
        if status.state != "SHIPPED" or not status.tracking_number or status.shipped_at is None:
            continue
        shipment = Shipment(order_key=order_key, warehouse=warehouse, carrier=status.carrier or "Other",
                            tracking_number=status.tracking_number, shipped_at=status.shipped_at,
                            lines=tuple(ShipmentLine(line.seller_sku, line.quantity) for line in status.lines
                                        if line.quantity > 0) or (ShipmentLine("?", 1),))
        if not store.redis.hsetnx(_shipments_key(store, seller, order_key), warehouse, msgspec.json.encode(shipment)):
            continue
        ledger.consume(seller, order_key, warehouse, f"{warehouse}:{status.reference}", status.shipped_at,
                       [(line.seller_sku, line.quantity) for line in shipment.lines])
        store.append_event(seller, order_key, EventKind.SHIPPED,
                           f"{warehouse} shipped with {shipment.carrier} {shipment.tracking_number}")
        store.set_stage(seller, order_key, "shipped")
        to_push.append(order_key)
    return to_push


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
    first = store.redis.sadd(f"{store.prefix}:{seller}:tracking_pushed:{order_key}", warehouse) == 1
    if first:
        store.append_event(seller, order_key, EventKind.TRACKING_PUSHED, f"tracking from {warehouse} pushed")
    return first


def mark_tracking_refused(store: OrderStore, seller: str, order_key: str, warehouse: str, message: str) -> bool:
    """The platform refused this shipment's tracking (e.g. the order was already shipped another way):
    recorded once, for an operator to look at; it is not retried."""
    first = store.redis.hset(f"{store.prefix}:{seller}:tracking_refused:{order_key}", warehouse, message) == 1
    if first:
        store.append_event(seller, order_key, EventKind.NOTE, f"tracking from {warehouse} refused: {message}")
    return first


def tracking_was_pushed(store: OrderStore, seller: str, order_key: str, warehouse: str) -> bool:
    return bool(store.redis.sismember(f"{store.prefix}:{seller}:tracking_pushed:{order_key}", warehouse))


