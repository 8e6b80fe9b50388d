"""The archive's first schema: orders with their lines, submissions, shipments and timeline; stock snapshots.

Revision ID: 0001
Revises: none
Create Date: 2026-12-06

A frozen copy of pipeline/archive/schema.py as it was at this revision (a migration never follows later
edits of the schema module); tests/archive checks that the migrations build exactly what schema.py says.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pipeline.archive.types import Amount, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ORDER_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _order_fk(table: str) -> sa.Column:
    return sa.Column("order_id", ORDER_ID, sa.ForeignKey("orders.id", ondelete="CASCADE", name=f"fk_{table}_order"),
                     primary_key=True)


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", ORDER_ID, primary_key=True, autoincrement=True),
        sa.Column("seller", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("platform", sa.String(), nullable=False),
        sa.Column("shop_id", sa.String(), nullable=False),
        sa.Column("external_id", sa.String(), nullable=False),
        sa.Column("platform_status", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("fulfilled_by", sa.String(), nullable=False),
        sa.Column("stage", sa.String(), nullable=False),
        sa.Column("hold_reason", sa.String(), nullable=True),
        sa.Column("hold_detail", sa.Text(), nullable=True),
        sa.Column("placed_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("ship_by", UTCDateTime(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("destination_country", sa.String(2), nullable=True),
        sa.Column("ship_to", sa.Text(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("items_total", Amount(), nullable=True),
        sa.Column("shipping_total", Amount(), nullable=True),
        sa.Column("tax_total", Amount(), nullable=True),
        sa.Column("discount_total", Amount(), nullable=True),
        sa.Column("total", Amount(), nullable=True),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("payload_hash", sa.String(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("raw_codec", sa.String(), nullable=False),
        sa.UniqueConstraint("seller", "key", name="uq_orders_seller_key"),
    )
    op.create_index("ix_orders_seller_placed", "orders", ["seller", "placed_at"])
    op.create_index("ix_orders_key", "orders", ["key"])

    op.create_table(
        "order_lines",
        _order_fk("order_lines"),
        sa.Column("line_no", sa.Integer(), primary_key=True),
        sa.Column("seller", sa.String(), nullable=False),
        sa.Column("placed_day", sa.Date(), nullable=False),
        sa.Column("warehouse", sa.String(), nullable=True),
        sa.Column("line_ids", sa.Text(), nullable=False),
        sa.Column("platform_sku", sa.String(), nullable=False),
        sa.Column("seller_sku", sa.String(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("cancelled_quantity", sa.Integer(), nullable=False),
        sa.Column("shipped_quantity", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("unit_price", Amount(), nullable=True),
    )
    op.create_index("ix_order_lines_sku_day", "order_lines", ["seller", "seller_sku", "placed_day", "warehouse"])

    op.create_table(
        "order_submissions",
        _order_fk("order_submissions"),
        sa.Column("warehouse", sa.String(), primary_key=True),
        sa.Column("reference", sa.String(), nullable=False),
        sa.Column("remote_id", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_order_submissions_reference", "order_submissions", ["reference"])

    op.create_table(
        "order_shipments",
        _order_fk("order_shipments"),
        sa.Column("warehouse", sa.String(), primary_key=True),
        sa.Column("carrier", sa.String(), nullable=False),
        sa.Column("tracking_number", sa.String(), nullable=False),
        sa.Column("shipped_at", UTCDateTime(), nullable=False),
        sa.Column("tracking", sa.String(), nullable=False),
        sa.Column("tracking_pushed_at", UTCDateTime(), nullable=True),
        sa.Column("tracking_refusal", sa.Text(), nullable=True),
    )
    op.create_index("ix_order_shipments_tracking", "order_shipments", ["tracking_number"])

    op.create_table(
        "order_shipment_lines",
        sa.Column("order_id", ORDER_ID, primary_key=True),
        sa.Column("warehouse", sa.String(), primary_key=True),
        sa.Column("line_no", sa.Integer(), primary_key=True),
        sa.Column("seller_sku", sa.String(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["order_id", "warehouse"], ["order_shipments.order_id", "order_shipments.warehouse"],
                                ondelete="CASCADE", name="fk_order_shipment_lines_shipment"),
    )

    op.create_table(
        "order_events",
        _order_fk("order_events"),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("addresses", sa.Text(), nullable=True),
    )

    op.create_table(
        "stock_snapshots",
        sa.Column("seller", sa.String(), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("warehouse", sa.String(), primary_key=True),
        sa.Column("seller_sku", sa.String(), primary_key=True),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("in_doubt", sa.Integer(), nullable=False),
        sa.Column("shipped", sa.Integer(), nullable=False),
        sa.Column("taken_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_stock_snapshots_sku_day", "stock_snapshots", ["seller", "seller_sku", "day"])


def downgrade() -> None:
    for table in ("stock_snapshots", "order_events", "order_shipment_lines", "order_shipments", "order_submissions",
                  "order_lines", "orders"):
        op.drop_table(table)
