"""The order archive: order history and daily stock in a relational database, for history and analysis.

Redis holds what Orderhub is working on; the archive keeps what it did, laid out for queries
(schema.py) and reachable through SQLAlchemy Core on PostgreSQL (`ORDERHUB_DATABASE_URL`) or, when
that is unset, a SQLite file in the Orderhub home (engine.py), with Alembic migrations applied in code
(migrate.py, `orderhub db upgrade`). An order goes in as an `ArchivedOrder` (records.py) built from
the Redis store (build.py) and is written idempotently in batches (writer.py); reader.py reads it
back. Closed orders leave Redis for it (closing.py says which, move.py moves them, crash-safe, leaving
a tombstone), and an archived order listed again is recognised and its change recorded (relisted.py).
"""

from __future__ import annotations

from pipeline.archive.build import NotArchivable, collect, from_stored, snapshots_from_ledger
from pipeline.archive.engine import create_archive_engine, database_url, describe, get_engine
from pipeline.archive.migrate import current, head, upgrade
from pipeline.archive.reader import get_order, orders_of_seller, sku_lines_by_day, stock_history
from pipeline.archive.records import (
    ArchivedLine,
    ArchivedOrder,
    ArchivedShipment,
    ArchivedSubmission,
    OrderSummary,
    SkuDay,
    StockSnapshot,
    Tracking,
)
from pipeline.archive.writer import archive_orders, archive_stock

__all__ = [
    "ArchivedLine", "ArchivedOrder", "ArchivedShipment", "ArchivedSubmission", "NotArchivable", "OrderSummary",
    "SkuDay", "StockSnapshot", "Tracking", "archive_orders", "archive_stock", "collect", "create_archive_engine",
    "current", "database_url", "describe", "from_stored", "get_engine", "get_order", "head", "orders_of_seller",
    "sku_lines_by_day", "snapshots_from_ledger", "stock_history", "upgrade",
]
