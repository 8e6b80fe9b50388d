"""Archive records for tests, built the way production builds them: a stored order through from_stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import ROUND_DOWN, Decimal

import msgspec
import orjson
from sqlalchemy import Engine, select

from pipeline.archive import ArchivedOrder, from_stored, schema
from pipeline.model import (
    Address,
    EventKind,
    Hold,
    HoldReason,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentLine,
    TimelineEvent,
    Totals,
)
from pipeline.store import StoredOrder
from pipeline.submissions import Submission
from tests.factories import make_order

PLACED = datetime(2026, 11, 2, 9, 30, 15, 123456, tzinfo=UTC)
US = Address(country="US", name="Jane Placeholder", line1="1 Test Street", city="Austin", region="TX",
             postal_code="78701", pii_complete=True)
RAW = b'{"order": {"BuyerName": "Jane Placeholder", "Total": "9999999999.99"}}\x00\xff' + bytes(range(256))


def order(n: int, *, seller: str = "acme", placed: datetime = PLACED, lines: tuple[tuple[str, int], ...] = (("MUG-01", 2),),
          status: OrderStatus = OrderStatus.SHIPPED, currency: str = "USD", version: int = 0) -> Order:
    base = make_order(n, seller=seller, status=status)
    step = {"USD": "0.01", "JPY": "1", "KWD": "0.001"}[currency]
    price = Money(Decimal("1234567.89").quantize(Decimal(step), ROUND_DOWN), currency)
    big = Money(Decimal("9999999999.999").quantize(Decimal(step), ROUND_DOWN), currency)  # just below MAX_AMOUNT
    return msgspec.structs.replace(
        base, placed_at=placed, updated_at=placed + timedelta(minutes=5 + version), currency=currency,
        ship_by=placed + timedelta(days=2), ship_to=US, notes=("item 3 had QuantityOrdered 0",),
        totals=Totals(items=big, shipping=Money(Decimal(step), currency), tax=Money.zero(currency),
                      discount=Money(Decimal(step) * 3, currency), total=big),
        lines=tuple(OrderLine(line_ids=(f"{n}-{i}-a", f"{n}-{i}-b"), platform_sku=f"P-{sku}", seller_sku=sku,
                              quantity=qty, title=f"Item {sku}", unit_price=price)
                    for i, (sku, qty) in enumerate(lines)))


def archived(n: int, *, warehouses: tuple[str, ...] = ("east",), stage: str = "shipped", closed: bool = True,
             **kw) -> ArchivedOrder:
    """A shipped order with one submission and shipment per warehouse, tracking pushed from the first."""
    canonical = order(n, **kw)
    at = canonical.placed_at
    timeline = [TimelineEvent(at=at, kind=EventKind.RECEIVED, detail="SHIPPED"),
                TimelineEvent(at=at + timedelta(minutes=1), kind=EventKind.ADDRESS_CHANGED, detail="ship-to changed",
                              addresses={"sent": US, "now": msgspec.structs.replace(US, line1="2 Test Street")})]
    submitted, shipped = {}, {}
    for i, wh in enumerate(warehouses):
        reference = f"OH-AMA-{n}-{wh}"
        submitted[wh] = Submission(wh, reference, f"R{n}{wh}", "SHIPPED", ship_to=US)
        timeline.append(TimelineEvent(at=at + timedelta(minutes=2 + i), kind=EventKind.SUBMITTED,
                                      detail=f"{wh} ref {reference} (R{n}{wh})"))
        shipped[wh] = Shipment(order_key=canonical.key, warehouse=wh, carrier="UPS", tracking_number=f"1Z{n}{wh}",
                               shipped_at=at + timedelta(hours=3, microseconds=7),
                               lines=tuple(ShipmentLine(line.seller_sku, line.quantity) for line in canonical.lines))
    if warehouses:
        timeline.append(TimelineEvent(at=at + timedelta(hours=4), kind=EventKind.TRACKING_PUSHED,
                                      detail=f"tracking from {warehouses[0]} pushed"))
    stored = StoredOrder(key=canonical.key, order=canonical, raw=RAW + str(n).encode(), payload_hash=f"hash-{n}",
                         hold=Hold(HoldReason.CANCEL_TOO_LATE, "recall it") if stage == "held" else None, stage=stage)
    refused = {wh: "already shipped another way" for wh in warehouses[1:]}
    return from_stored(stored, timeline=timeline, submitted=submitted, shipped=shipped,
                       tracking_pushed=set(warehouses[:1]), tracking_refused=refused,
                       closed_at=at + timedelta(days=1) if closed else None)


def dump(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every archive table, sorted: what "the same rows" means."""
    with engine.connect() as conn:
        return {table.name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
                for table in schema.metadata.sorted_tables}


MOVED = Address(country="US", name="Jane Placeholder", line1="9 Other Road", city="Denver", region="CO",
                postal_code="80202", pii_complete=True)


class BundleConnector:
    """Maps `{"n", "status", "v"[, "to"]}` bundles to factory orders (the sync's real mapping path); "to":
    "moved" (the buyer's new ship-to, MOVED) or "withheld" (the platform stopped showing the buyer)."""

    name = "amazon"
    overlap = timedelta(hours=3)

    def map_raw(self, raw, shop):
        bundle = orjson.loads(raw)
        order = make_order(bundle["n"], status=OrderStatus(bundle["status"]), version=bundle["v"], shop_id=shop.shop_id)
        to = bundle.get("to")
        if to == "moved":
            return msgspec.structs.replace(order, ship_to=MOVED)
        if to == "withheld":
            return msgspec.structs.replace(order, ship_to=Address(country="US", city="Denver", pii_complete=False))
        return order


class PageClient:
    """Lists the same page whatever the window: an overlap, a reconciliation, a late update."""

    def __init__(self, page):
        self.page = page

    def sync_horizon(self, now):
        return now

    def changed_orders(self, since, until, listed=None):
        yield self.page
