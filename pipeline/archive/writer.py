"""Writes into the archive: a batch of orders, or of stock snapshots, in one transaction each.

Idempotent, so a retried or redelivered task can write the same batch again: an order is upserted on
(seller, key) with INSERT ... ON CONFLICT DO UPDATE (PostgreSQL's or SQLite's own statement), then its
lines, submissions, shipments and timeline are deleted and written anew from the record, so writing the
same record twice leaves exactly the rows writing it once did, and a newer record replaces the older
one whole. The last record of an order in a batch wins. A stock snapshot is upserted on (seller, day,
warehouse, SKU) and is replaced only by one taken at the same time or later.

A batch of orders goes in with a handful of statements whatever its size: on PostgreSQL the orders and
their children by COPY (pipeline/archive/bulk.py), only the orders archived before having old children
to delete (one array parameter per table); on SQLite by the sqlite3 module's executemany, whose upsert
returns the orders' ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

import msgspec
import structlog
from sqlalchemy import (
    BigInteger,
    Connection,
    Engine,
    Row,
    Table,
    any_,
    bindparam,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement

from pipeline.archive import schema
from pipeline.archive.bulk import copy_rows, write_orders
from pipeline.archive.engine import writing
from pipeline.archive.records import ArchivedOrder, StockSnapshot, compress_raw

log = structlog.get_logger()

CHUNK = 500
"""Order ids per IN list: far below SQLite's and PostgreSQL's limits on bound parameters."""
_JSON = msgspec.json.Encoder(decimal_format="string")
_UPSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def archive_orders(engine: Engine, records: Sequence[ArchivedOrder]) -> int:
    """Write `records` (new or again) in one transaction; returns how many orders were written."""
    batch = list({(record.seller, record.key): record for record in records}.values())
    if not batch:
        return 0
    with writing(engine) as conn:
        ids, replaced = _upsert_orders(conn, [_order_row(record) for record in batch])
        _delete_children(conn, replaced)
        children: dict[Table, list[dict[str, Any]]] = {table: [] for table in schema.ORDER_CHILDREN}
        for record in batch:
            _child_rows(record, ids[(record.seller, record.key)], children)
        for table in reversed(schema.ORDER_CHILDREN):  # parents before children
            if children[table]:
                _insert_many(conn, table, children[table])
    log.info("archive.orders_written", orders=len(batch), sellers=len({record.seller for record in batch}))
    return len(batch)


def archive_stock(engine: Engine, snapshots: Sequence[StockSnapshot]) -> int:
    """Upsert one row per (seller, day, warehouse, SKU); returns how many were offered after de-duplication
    (a row older than the stored one is offered but left as it was)."""
    latest: dict[tuple[Any, ...], StockSnapshot] = {}
    for snap in snapshots:
        key = (snap.seller, snap.day, snap.warehouse, snap.seller_sku)
        if key not in latest or latest[key].taken_at <= snap.taken_at:
            latest[key] = snap
    if not latest:
        return 0
    table = schema.stock_snapshots
    with writing(engine) as conn:
        _upsert(conn, table, [msgspec.structs.asdict(snap) for snap in latest.values()],
                ("seller", "day", "warehouse", "seller_sku"),
                only_if=lambda excluded: excluded.taken_at >= table.c.taken_at)
    log.info("archive.stock_written", rows=len(latest))
    return len(latest)


def _upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], conflict: Sequence[str],
            only_if: Callable[[Any], ColumnElement[bool]] | None = None,
            returning: Sequence[ColumnElement[Any]] = ()) -> list[Row[Any]]:
    """INSERT ... ON CONFLICT (conflict) DO UPDATE every other column, in the connection's own dialect;
    the `returning` columns of every row upserted (give no `only_if` with them: a row it skips returns
    nothing)."""
    stmt = _UPSERTS[conn.dialect.name](table)  # create_archive_engine admits only PostgreSQL and SQLite
    updated = {column.name: stmt.excluded[column.name] for column in table.columns
               if column.name not in conflict and not column.primary_key}
    stmt = stmt.on_conflict_do_update(index_elements=list(conflict), set_=updated,
                                      where=only_if(stmt.excluded) if only_if else None)
    if returning:
        return list(conn.execute(stmt.returning(*returning), rows))
    conn.execute(stmt, rows)
    return []


def _upsert_orders(conn: Connection, rows: list[dict[str, Any]]) -> tuple[dict[tuple[str, str], int], list[int]]:
    """Upsert the order rows: the id of each by (seller, key), and the ids of those whose children are to
    be replaced. PostgreSQL by COPY, knowing which orders were there (pipeline/archive/bulk.py); SQLite by
    the sqlite3 module's executemany, already fast, every order's children replaced. No SELECT of ids."""
    orders = schema.orders
    if conn.dialect.name == "postgresql":
        return write_orders(conn, orders, rows)
    written = _upsert(conn, orders, rows, ("seller", "key"), returning=(orders.c.seller, orders.c.key, orders.c.id))
    ids = {(seller, key): order_id for seller, key, order_id in written}
    return ids, list(ids.values())


def _delete_children(conn: Connection, order_ids: list[int]) -> None:
    """Delete the children of the orders, to be written anew: on PostgreSQL with one array parameter per
    table (psycopg re-parses a statement with hundreds of IN parameters at a cost), on SQLite in chunks."""
    if not order_ids:
        return
    for table in schema.ORDER_CHILDREN:
        if conn.dialect.name == "postgresql":
            conn.execute(delete(table).where(table.c.order_id == any_(bindparam("ids", order_ids, ARRAY(BigInteger)))))
            continue
        for chunk in _chunks(order_ids):
            conn.execute(delete(table).where(table.c.order_id.in_(chunk)))


def _insert_many(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert `rows`: COPY on PostgreSQL (pipeline/archive/bulk.py), executemany on SQLite."""
    if conn.dialect.name == "postgresql":
        copy_rows(conn, table, rows)
    else:
        conn.execute(insert(table), rows)


def _order_row(record: ArchivedOrder) -> dict[str, Any]:
    raw, codec = compress_raw(record.raw)
    totals = record.totals
    return {
        "seller": record.seller, "key": record.key, "platform": record.platform, "shop_id": record.shop_id,
        "external_id": record.external_id, "platform_status": record.platform_status,
        "status": record.status.value, "fulfilled_by": record.fulfilled_by.value, "stage": record.stage,
        "hold_reason": record.hold.reason.value if record.hold else None,
        "hold_detail": record.hold.detail if record.hold else None,
        "placed_at": record.placed_at, "updated_at": record.updated_at, "ship_by": record.ship_by,
        "closed_at": record.closed_at, "destination_country": record.destination_country,
        "ship_to": _json(record.ship_to) if record.ship_to is not None else None, "currency": record.currency,
        "items_total": totals.items.amount if totals else None,
        "shipping_total": totals.shipping.amount if totals else None,
        "tax_total": totals.tax.amount if totals else None,
        "discount_total": totals.discount.amount if totals else None,
        "total": totals.total.amount if totals else None,
        "units": record.units, "notes": _json(list(record.notes)), "payload_hash": record.payload_hash,
        "raw": raw, "raw_codec": codec,
    }


def _child_rows(record: ArchivedOrder, order_id: int, rows: dict[Table, list[dict[str, Any]]]) -> None:
    placed_day = record.placed_at.date()  # placed_at is UTC (ArchivedOrder checks it)
    rows[schema.order_lines].extend(
        {"order_id": order_id, "line_no": line.line_no, "seller": record.seller, "placed_day": placed_day,
         "warehouse": line.warehouse, "line_ids": _json(list(line.line_ids)), "platform_sku": line.platform_sku,
         "seller_sku": line.seller_sku, "title": line.title, "quantity": line.quantity,
         "cancelled_quantity": line.cancelled_quantity, "shipped_quantity": line.shipped_quantity,
         "currency": record.currency, "unit_price": line.unit_price.amount if line.unit_price else None}
        for line in record.lines)
    rows[schema.order_submissions].extend(
        {"order_id": order_id, "warehouse": sub.warehouse, "reference": sub.reference, "remote_id": sub.remote_id,
         "state": sub.state, "submitted_at": sub.submitted_at, "cancelled_at": sub.cancelled_at}
        for sub in record.submissions)
    for shipment in record.shipments:
        rows[schema.order_shipments].append(
            {"order_id": order_id, "warehouse": shipment.warehouse, "carrier": shipment.carrier,
             "tracking_number": shipment.tracking_number, "shipped_at": shipment.shipped_at,
             "tracking": shipment.tracking.value, "tracking_pushed_at": shipment.tracking_pushed_at,
             "tracking_refusal": shipment.tracking_refusal})
        rows[schema.order_shipment_lines].extend(
            {"order_id": order_id, "warehouse": shipment.warehouse, "line_no": i, "seller_sku": line.seller_sku,
             "quantity": line.quantity}
            for i, line in enumerate(shipment.lines))
    rows[schema.order_events].extend(
        {"order_id": order_id, "seq": seq, "at": event.at, "kind": event.kind.value, "detail": event.detail,
         "addresses": _json(event.addresses) if event.addresses else None}
        for seq, event in enumerate(record.timeline))


def _json(value: object) -> str:
    return _JSON.encode(value).decode()


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]



def next_event_seq(conn: Connection, order_id: int) -> int:
    """The seq an event appended to the archived order's timeline takes."""
    events = schema.order_events
    return conn.execute(select(func.coalesce(func.max(events.c.seq), -1))
                        .where(events.c.order_id == order_id)).scalar_one() + 1


def prune_orders(engine: Engine, closed_before: datetime, seller: str | None = None) -> int:
    """Delete the orders (their children go with them, ON DELETE CASCADE) closed before `closed_before`,
    or, never marked closed, last updated before it; returns how many. Stock snapshots are kept."""
    orders = schema.orders
    when = func.coalesce(orders.c.closed_at, orders.c.updated_at)
    query = delete(orders).where(when < closed_before)
    if seller is not None:
        query = query.where(orders.c.seller == seller)
    with writing(engine) as conn:
        pruned = conn.execute(query).rowcount
    log.info("archive.pruned", orders=pruned, closed_before=closed_before.isoformat(), seller=seller)
    return pruned
