"""A partial index over the archived orders that carry a hold (a late address change), for holds list.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    held = sa.text("hold_reason IS NOT NULL")
    op.create_index("ix_orders_held", "orders", ["seller", "hold_reason"], postgresql_where=held, sqlite_where=held)


def downgrade() -> None:
    op.drop_index("ix_orders_held", table_name="orders")
