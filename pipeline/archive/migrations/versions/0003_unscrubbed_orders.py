"""A partial index over the archived orders still carrying buyer data, by close time, for the PII scrub.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    unscrubbed = sa.text("raw_codec <> 'scrubbed'")
    op.create_index("ix_orders_unscrubbed", "orders", ["seller", "closed_at"], postgresql_where=unscrubbed,
                    sqlite_where=unscrubbed)


def downgrade() -> None:
    op.drop_index("ix_orders_unscrubbed", table_name="orders")
