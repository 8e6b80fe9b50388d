"""Reads from the archive: one order whole (and whose it is), a seller's orders by time and their count, the
held ones, a SKU's lines by day, stock by day.

Each query is served by an index of pipeline/archive/schema.py (noted at each function). One order is
read in one transaction, on PostgreSQL at REPEATABLE READ, so an order archived again meanwhile is
seen whole, before or after, never half of each (SQLite's transaction is a snapshot already). Amounts
come back as Money in the order's currency with that currency's decimals, times as aware UTC.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import Connection, Engine, case, distinct, func, or_, select

from pipeline.archive import schema
from pipeline.archive.records import (
    ArchivedLine,
    ArchivedOrder,
    ArchivedShipment,
    ArchivedSubmission,
    OrderSummary,
    SkuDay,
    StockSnapshot,
    Tracking,
    decompress_raw,
)
from pipeline.model import (
    Address,
    EventKind,
    FulfilledBy,
    Hold,
    HoldReason,
    Money,
    OrderStatus,
    ShipmentLine,
    TimelineEvent,
    Totals,
)
from pipeline.money import MINOR_STEP
from pipeline.stages import Stage

_ADDRESS = msgspec.json.Decoder(Address)
_ADDRESSES = msgspec.json.Decoder(dict[str, Address])
_TEXTS = msgspec.json.Decoder(tuple[str, ...])


def get_order(engine: Engine, seller: str, key: str) -> ArchivedOrder | None:
    """The archived order `key` of `seller`, whole (None: not archived). Index: uq_orders_seller_key."""
    orders = schema.orders
    with snapshot(engine) as conn:
        row = conn.execute(select(orders).where(orders.c.seller == seller, orders.c.key == key)).mappings().first()
        if row is None:
            return None
        return _order(conn, row)


def sellers_of(engine: Engine, key: str) -> list[str]:
    """The sellers with an archived order `key`, sorted (one, but for a key two sellers share). Index: ix_orders_key."""
    orders = schema.orders
    with engine.connect() as conn:
        return list(conn.scalars(select(orders.c.seller).where(orders.c.key == key).order_by(orders.c.seller)))


class ArchivedHold(msgspec.Struct, frozen=True):
    """An archived order held (a parcel that left for an address the buyer has since changed)."""

    seller: str
    key: str
    reason: HoldReason
    detail: str


def held_orders(engine: Engine, seller: str | None = None, reason: HoldReason | None = None) -> list[ArchivedHold]:
    """The archived orders with a hold (of `seller`, for `reason`), by seller then key. Index: ix_orders_held."""
    orders = schema.orders
    query = (select(orders.c.seller, orders.c.key, orders.c.hold_reason, orders.c.hold_detail)
             .where(orders.c.hold_reason.is_not(None)).order_by(orders.c.seller, orders.c.key))
    if seller is not None:
        query = query.where(orders.c.seller == seller)
    if reason is not None:
        query = query.where(orders.c.hold_reason == reason.value)
    with engine.connect() as conn:
        return [ArchivedHold(row.seller, row.key, HoldReason(row.hold_reason), row.hold_detail or "")
                for row in conn.execute(query)]


def hold_counts(engine: Engine) -> dict[tuple[str, HoldReason], int]:
    """How many archived orders are held, per seller and reason. Index: ix_orders_held."""
    orders = schema.orders
    query = (select(orders.c.seller, orders.c.hold_reason, func.count())
             .where(orders.c.hold_reason.is_not(None)).group_by(orders.c.seller, orders.c.hold_reason))
    with engine.connect() as conn:
        return {(seller, HoldReason(reason)): int(n) for seller, reason, n in conn.execute(query)}


def order_counts(engine: Engine) -> dict[str, int]:
    """How many orders the archive holds, per seller, in one query. Index: ix_orders_seller_placed (its
    leading column)."""
    orders = schema.orders
    with engine.connect() as conn:
        return {seller: int(n) for seller, n in conn.execute(select(orders.c.seller, func.count())
                                                             .group_by(orders.c.seller))}


def orders_of_seller(engine: Engine, seller: str, since: datetime, until: datetime,
                     limit: int | None = None) -> list[OrderSummary]:
    """The seller's orders placed in [since, until), oldest first. Index: ix_orders_seller_placed."""
    orders = schema.orders
    query = (select(orders.c.key, orders.c.platform, orders.c.shop_id, orders.c.external_id, orders.c.status,
                    orders.c.fulfilled_by, orders.c.stage, orders.c.hold_reason, orders.c.placed_at,
                    orders.c.updated_at, orders.c.closed_at, orders.c.destination_country, orders.c.currency,
                    orders.c.total, orders.c.units)
             .where(orders.c.seller == seller, orders.c.placed_at >= since, orders.c.placed_at < until)
             .order_by(orders.c.placed_at, orders.c.key).limit(limit))
    with engine.connect() as conn:
        return [OrderSummary(key=row.key, platform=row.platform, shop_id=row.shop_id, external_id=row.external_id,
                             status=OrderStatus(row.status), fulfilled_by=FulfilledBy(row.fulfilled_by),
                             stage=row.stage, hold_reason=row.hold_reason, placed_at=row.placed_at,
                             updated_at=row.updated_at, closed_at=row.closed_at,
                             destination_country=row.destination_country, currency=row.currency,
                             total=_money(row.total, row.currency), units=row.units)
                for row in conn.execute(query)]


def sku_lines_by_day(engine: Engine, seller: str, seller_sku: str, since: date, until: date,
                     warehouse: str | None = None) -> list[SkuDay]:
    """The seller SKU's order lines per UTC day placed in [since, until) and per warehouse (only
    `warehouse`'s, if given), by day then warehouse. Index: ix_order_lines_sku_day."""
    lines = schema.order_lines
    query = (select(lines.c.placed_day, lines.c.warehouse, func.count().label("lines"),
                    func.count(distinct(lines.c.order_id)).label("orders"), func.sum(lines.c.quantity).label("units"),
                    func.sum(lines.c.cancelled_quantity).label("cancelled"),
                    func.sum(lines.c.shipped_quantity).label("shipped"))
             .where(lines.c.seller == seller, lines.c.seller_sku == seller_sku, lines.c.placed_day >= since,
                    lines.c.placed_day < until)
             .group_by(lines.c.placed_day, lines.c.warehouse))
    if warehouse is not None:
        query = query.where(lines.c.warehouse == warehouse)
    with engine.connect() as conn:
        days = [SkuDay(day=row.placed_day, warehouse=row.warehouse, lines=int(row.lines), orders=int(row.orders),
                       units=int(row.units), cancelled_units=int(row.cancelled), shipped_units=int(row.shipped))
                for row in conn.execute(query)]
    return sorted(days, key=lambda d: (d.day, d.warehouse is not None, d.warehouse or ""))


def stock_history(engine: Engine, seller: str, seller_sku: str, since: date, until: date) -> list[StockSnapshot]:
    """The SKU's daily snapshots in [since, until) at every warehouse, by day then warehouse.
    Index: ix_stock_snapshots_sku_day."""
    stock = schema.stock_snapshots
    query = (select(stock).where(stock.c.seller == seller, stock.c.seller_sku == seller_sku, stock.c.day >= since,
                                 stock.c.day < until)
             .order_by(stock.c.day, stock.c.warehouse))
    with engine.connect() as conn:
        return [StockSnapshot(**row) for row in conn.execute(query).mappings()]


class DemandDay(msgspec.Struct, frozen=True, kw_only=True):
    """Units of one seller SKU asked for on one UTC day, per warehouse and destination country: `units` by
    orders that went to a warehouse (routed, submitted, shipped), `lost` by orders held for want of stock.
    `warehouse` None: the line never reached one warehouse (held, or split across several)."""

    day: date
    seller_sku: str
    warehouse: str | None
    country: str
    units: int
    lost: int


DEMAND_STAGES = (Stage.ROUTED, Stage.SUBMITTED, Stage.SHIPPED)
"""The stages whose orders count as demand met (routed, submitted, shipped): pipeline/decisions/demand.py too."""


def demand_by_day(engine: Engine, seller: str, since: date, until: date,
                  only_keys: Sequence[str] | None = None) -> list[DemandDay]:
    """The seller's demand per day placed in [since, until), seller SKU, warehouse and destination country
    (pipeline/decisions/demand.py): units = quantity - cancelled_quantity, summed in SQL. Orders the
    platform fulfils or that were cancelled are left out; an order held INSUFFICIENT_STOCK counts as
    `lost`. With `only_keys`, only those orders (asked in chunks): the caller subtracts the archived copy
    of an order Redis still holds. Index: ix_order_lines_sku_day (seller, then the day range)."""
    lines, orders = schema.order_lines, schema.orders
    units = lines.c.quantity - lines.c.cancelled_quantity
    short = orders.c.hold_reason == HoldReason.INSUFFICIENT_STOCK.value
    base = (select(lines.c.placed_day, lines.c.seller_sku, lines.c.warehouse, orders.c.destination_country,
                   func.sum(case((short, 0), else_=units)).label("units"),
                   func.sum(case((short, units), else_=0)).label("lost"))
            .select_from(lines.join(orders, orders.c.id == lines.c.order_id))
            .where(lines.c.seller == seller, lines.c.placed_day >= since, lines.c.placed_day < until,
                   lines.c.seller_sku.is_not(None), orders.c.status != OrderStatus.CANCELLED.value,
                   orders.c.fulfilled_by != FulfilledBy.PLATFORM.value,
                   or_(short, orders.c.stage.in_([stage.value for stage in DEMAND_STAGES])))
            .group_by(lines.c.placed_day, lines.c.seller_sku, lines.c.warehouse, orders.c.destination_country))
    if only_keys is None:
        queries = [base]
    else:
        queries = [base.where(orders.c.key.in_(list(only_keys[i:i + 500]))) for i in range(0, len(only_keys), 500)]
    found: dict[tuple[date, str, str | None, str], list[int]] = {}
    with engine.connect() as conn:
        for query in queries:
            for row in conn.execute(query):
                cell = found.setdefault((row.placed_day, row.seller_sku, row.warehouse,
                                         row.destination_country or ""), [0, 0])
                cell[0] += int(row.units or 0)
                cell[1] += int(row.lost or 0)
    return [DemandDay(day=day, seller_sku=sku, warehouse=wh, country=country, units=u, lost=lost)
            for (day, sku, wh, country), (u, lost) in sorted(found.items(), key=lambda kv: (kv[0][0], kv[0][1],
                                                                                            kv[0][2] or "", kv[0][3]))
            if u or lost]


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """One read transaction, on PostgreSQL at REPEATABLE READ: several queries see one state of the archive."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def _order(conn: Connection, row: Any) -> ArchivedOrder:
    order_id, currency = row["id"], row["currency"]
    hold = Hold(HoldReason(row["hold_reason"]), row["hold_detail"] or "") if row["hold_reason"] else None
    return ArchivedOrder(
        seller=row["seller"], key=row["key"], platform=row["platform"], shop_id=row["shop_id"],
        external_id=row["external_id"], platform_status=row["platform_status"], status=OrderStatus(row["status"]),
        fulfilled_by=FulfilledBy(row["fulfilled_by"]), placed_at=row["placed_at"], updated_at=row["updated_at"],
        currency=currency, payload_hash=row["payload_hash"], raw=decompress_raw(row["raw"], row["raw_codec"]),
        stage=row["stage"], hold=hold, ship_by=row["ship_by"], closed_at=row["closed_at"], totals=_totals(row),
        ship_to=_ADDRESS.decode(row["ship_to"]) if row["ship_to"] is not None else None,
        notes=_TEXTS.decode(row["notes"]), lines=_lines(conn, order_id, currency),
        submissions=_submissions(conn, order_id), shipments=_shipments(conn, order_id),
        timeline=_timeline(conn, order_id),
    )


def _lines(conn: Connection, order_id: int, currency: str) -> tuple[ArchivedLine, ...]:
    table = schema.order_lines
    rows = conn.execute(select(table).where(table.c.order_id == order_id).order_by(table.c.line_no))
    return tuple(ArchivedLine(line_no=r.line_no, line_ids=_TEXTS.decode(r.line_ids), platform_sku=r.platform_sku,
                              quantity=r.quantity, title=r.title, seller_sku=r.seller_sku,
                              cancelled_quantity=r.cancelled_quantity, shipped_quantity=r.shipped_quantity,
                              unit_price=_money(r.unit_price, currency), warehouse=r.warehouse)
                 for r in rows)


def _submissions(conn: Connection, order_id: int) -> tuple[ArchivedSubmission, ...]:
    table = schema.order_submissions
    rows = conn.execute(select(table).where(table.c.order_id == order_id).order_by(table.c.warehouse))
    return tuple(ArchivedSubmission(warehouse=r.warehouse, reference=r.reference, remote_id=r.remote_id,
                                    state=r.state, submitted_at=r.submitted_at, cancelled_at=r.cancelled_at)
                 for r in rows)


def _shipments(conn: Connection, order_id: int) -> tuple[ArchivedShipment, ...]:
    table, lines = schema.order_shipments, schema.order_shipment_lines
    shipped: dict[str, list[ShipmentLine]] = {}
    for r in conn.execute(select(lines).where(lines.c.order_id == order_id).order_by(lines.c.warehouse,
                                                                                      lines.c.line_no)):
        shipped.setdefault(r.warehouse, []).append(ShipmentLine(r.seller_sku, r.quantity))
    rows = conn.execute(select(table).where(table.c.order_id == order_id).order_by(table.c.warehouse))
    return tuple(ArchivedShipment(warehouse=r.warehouse, carrier=r.carrier, tracking_number=r.tracking_number,
                                  shipped_at=r.shipped_at, lines=tuple(shipped.get(r.warehouse, ())),
                                  tracking=Tracking(r.tracking), tracking_pushed_at=r.tracking_pushed_at,
                                  tracking_refusal=r.tracking_refusal)
                 for r in rows)


def _timeline(conn: Connection, order_id: int) -> tuple[TimelineEvent, ...]:
    table = schema.order_events
    rows = conn.execute(select(table).where(table.c.order_id == order_id).order_by(table.c.seq))
    return tuple(TimelineEvent(at=r.at, kind=EventKind(r.kind), detail=r.detail,
                               addresses=_ADDRESSES.decode(r.addresses) if r.addresses else {})
                 for r in rows)


def _totals(row: Any) -> Totals | None:
    if row["total"] is None:
        return None
    currency = row["currency"]
    return Totals(items=_money(row["items_total"], currency), shipping=_money(row["shipping_total"], currency),
                  tax=_money(row["tax_total"], currency), discount=_money(row["discount_total"], currency),
                  total=_money(row["total"], currency))


def _money(amount: Decimal | None, currency: str) -> Money | None:
    """Money with the currency's own decimals (the column keeps six for every currency)."""
    if amount is None:
        return None
    step = MINOR_STEP.get(currency)
    return Money(amount.quantize(step) if step is not None else amount, currency)
