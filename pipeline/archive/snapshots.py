"""Today's stock per warehouse and SKU into the archive: the daily history the decision layer reads.

The ledger (pipeline/stock.py) knows only the present. Written every hour as today's row (an upsert
that keeps the newer reading), each day ends up with its last count of the day; a missed hour loses
nothing but an intermediate reading.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from config.schema import SellerConfig
from pipeline.archive.build import snapshots_from_ledger
from pipeline.archive.writer import archive_stock
from pipeline.stock import StockLedger


def snapshot_stock(ledger: StockLedger, engine: Engine, seller: SellerConfig, now: datetime) -> int:
    """Upsert the seller's stock at every configured warehouse as the snapshot of `now`'s UTC day;
    returns the rows written."""
    rows = [row for wh in seller.warehouses
            for row in snapshots_from_ledger(seller.seller, wh.id, ledger.totals(seller.seller, wh.id), now)]
    return archive_stock(engine, rows)
