"""The archive's tables (SQLAlchemy Core): order history laid out for queries, not a dump of Redis blobs.

An order is one `orders` row (the canonical fields, totals as exact amounts beside their currency)
with its lines, the outbound orders warehouses were sent, the shipments they reported (and their
lines) and its timeline in child tables keyed by the order's surrogate id; re-archiving an order
replaces its children (pipeline/archive/writer.py). `stock_snapshots` keeps one row per seller, day,
warehouse and seller SKU. The indexes serve what history and analysis ask: one order by key, a
seller's orders by time, the held ones, a SKU's lines by day and warehouse, a tracking number or warehouse
reference back to its order, a SKU's stock by day.

Buyer data sits in named columns only, so that a retention job can clear it without touching the
numbers: `orders.ship_to`, `orders.raw` (the platform payload, compressed) and
`order_events.addresses`. Free-form identifiers are unbounded text (a platform id longer than we
guessed must not fail an INSERT on PostgreSQL while SQLite lets it by).

This module is the target the migrations must build; tests/archive checks that they do (autogenerate
finds no difference). Change it only together with a new revision under migrations/versions/.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from pipeline.archive.types import Amount, UTCDateTime

metadata = MetaData()

# SQLite makes only an INTEGER PRIMARY KEY an auto-numbered rowid; PostgreSQL gets a 64-bit identity.
ORDER_ID = BigInteger().with_variant(Integer(), "sqlite")

orders = Table(
    "orders", metadata,
    Column("id", ORDER_ID, primary_key=True, autoincrement=True),
    Column("seller", String(), nullable=False),
    Column("key", String(), nullable=False),
    Column("platform", String(), nullable=False),
    Column("shop_id", String(), nullable=False),
    Column("external_id", String(), nullable=False),
    Column("platform_status", String(), nullable=False),
    Column("status", String(), nullable=False),  # pipeline.model.OrderStatus
    Column("fulfilled_by", String(), nullable=False),  # pipeline.model.FulfilledBy
    Column("stage", String(), nullable=False),  # pipeline.stages.Stage ("" before any)
    Column("hold_reason", String(), nullable=True),  # pipeline.model.HoldReason
    Column("hold_detail", Text(), nullable=True),
    Column("placed_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("ship_by", UTCDateTime(), nullable=True),
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("destination_country", String(2), nullable=True),
    Column("ship_to", Text(), nullable=True),  # buyer PII: the Address as JSON
    Column("currency", String(3), nullable=False),
    Column("items_total", Amount(), nullable=True),  # the five totals: all or none
    Column("shipping_total", Amount(), nullable=True),
    Column("tax_total", Amount(), nullable=True),
    Column("discount_total", Amount(), nullable=True),
    Column("total", Amount(), nullable=True),
    Column("units", Integer(), nullable=False),
    Column("notes", Text(), nullable=False),  # the mapping's notes, a JSON array
    Column("payload_hash", String(), nullable=False),
    Column("raw", LargeBinary(), nullable=False),  # buyer PII: the platform payload, compressed
    Column("raw_codec", String(), nullable=False),  # how `raw` is compressed (pipeline/archive/records.py)
    UniqueConstraint("seller", "key", name="uq_orders_seller_key"),
    Index("ix_orders_seller_placed", "seller", "placed_at"),
    Index("ix_orders_key", "key"),
    # Only the few held rows (a late address change, pipeline/archive/late_address.py): holds list reads it.
    Index("ix_orders_held", "seller", "hold_reason", postgresql_where=text("hold_reason IS NOT NULL"),
          sqlite_where=text("hold_reason IS NOT NULL")),
    # Only the rows still carrying buyer data, by close time: the hourly scrub (pipeline/archive/scrub.py).
    Index("ix_orders_unscrubbed", "seller", "closed_at", postgresql_where=text("raw_codec <> 'scrubbed'"),
          sqlite_where=text("raw_codec <> 'scrubbed'")),
)

order_lines = Table(
    "order_lines", metadata,
    Column("order_id", ORDER_ID, ForeignKey("orders.id", ondelete="CASCADE", name="fk_order_lines_order"),
           primary_key=True),
    Column("line_no", Integer(), primary_key=True),
    Column("seller", String(), nullable=False),  # the order's, copied so the SKU index needs no join
    Column("placed_day", Date(), nullable=False),  # the order's placed_at, as a UTC day
    Column("warehouse", String(), nullable=True),  # the one warehouse that had the line (None: none or several)
    Column("line_ids", Text(), nullable=False),  # the platform's line ids, a JSON array
    Column("platform_sku", String(), nullable=False),
    Column("seller_sku", String(), nullable=True),
    Column("title", Text(), nullable=False),
    Column("quantity", Integer(), nullable=False),
    Column("cancelled_quantity", Integer(), nullable=False),
    Column("shipped_quantity", Integer(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("unit_price", Amount(), nullable=True),
    Index("ix_order_lines_sku_day", "seller", "seller_sku", "placed_day", "warehouse"),
)

order_submissions = Table(
    "order_submissions", metadata,
    Column("order_id", ORDER_ID, ForeignKey("orders.id", ondelete="CASCADE", name="fk_order_submissions_order"),
           primary_key=True),
    Column("warehouse", String(), primary_key=True),
    Column("reference", String(), nullable=False),
    Column("remote_id", String(), nullable=False),
    Column("state", String(), nullable=False),  # pipeline.stages.OutboundState
    Column("submitted_at", UTCDateTime(), nullable=True),
    Column("cancelled_at", UTCDateTime(), nullable=True),
    Index("ix_order_submissions_reference", "reference"),
)

order_shipments = Table(
    "order_shipments", metadata,
    Column("order_id", ORDER_ID, ForeignKey("orders.id", ondelete="CASCADE", name="fk_order_shipments_order"),
           primary_key=True),
    Column("warehouse", String(), primary_key=True),
    Column("carrier", String(), nullable=False),
    Column("tracking_number", String(), nullable=False),
    Column("shipped_at", UTCDateTime(), nullable=False),
    Column("tracking", String(), nullable=False),  # records.Tracking: pending | pushed | refused
    Column("tracking_pushed_at", UTCDateTime(), nullable=True),
    Column("tracking_refusal", Text(), nullable=True),
    Index("ix_order_shipments_tracking", "tracking_number"),
)

order_shipment_lines = Table(
    "order_shipment_lines", metadata,
    Column("order_id", ORDER_ID, primary_key=True),
    Column("warehouse", String(), primary_key=True),
    Column("line_no", Integer(), primary_key=True),
    Column("seller_sku", String(), nullable=False),
    Column("quantity", Integer(), nullable=False),
    ForeignKeyConstraint(["order_id", "warehouse"], ["order_shipments.order_id", "order_shipments.warehouse"],
                         ondelete="CASCADE", name="fk_order_shipment_lines_shipment"),
)

order_events = Table(
    "order_events", metadata,
    Column("order_id", ORDER_ID, ForeignKey("orders.id", ondelete="CASCADE", name="fk_order_events_order"),
           primary_key=True),
    Column("seq", Integer(), primary_key=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("kind", String(), nullable=False),  # pipeline.model.EventKind
    Column("detail", Text(), nullable=False),
    Column("addresses", Text(), nullable=True),  # buyer PII: {name: Address} as JSON, when the event had any
)

stock_snapshots = Table(
    "stock_snapshots", metadata,
    Column("seller", String(), primary_key=True),
    Column("day", Date(), primary_key=True),
    Column("warehouse", String(), primary_key=True),
    Column("seller_sku", String(), primary_key=True),
    Column("on_hand", Integer(), nullable=False),
    Column("reserved", Integer(), nullable=False),
    Column("in_doubt", Integer(), nullable=False),
    Column("shipped", Integer(), nullable=False),
    Column("taken_at", UTCDateTime(), nullable=False),
    Index("ix_stock_snapshots_sku_day", "seller", "seller_sku", "day"),
)

ORDER_CHILDREN = (order_shipment_lines, order_shipments, order_submissions, order_events, order_lines)
"""The tables replaced when an order is archived again, children of children first."""
