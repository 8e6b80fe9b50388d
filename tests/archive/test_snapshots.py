"""The hourly stock snapshot: the ledger's counts become today's rows, the newest reading of the day wins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from config.schema import SellerConfig, WarehouseConfig
from pipeline.archive.reader import stock_history
from pipeline.archive.snapshots import snapshot_stock
from pipeline.stock import Allocation, StockLedger
from pipeline.warehouse_reports import StockLevel

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
SELLER = SellerConfig(seller="acme", warehouses=[
    WarehouseConfig(id=wh, kind="fourpx", credentials={}, countries=["US"]) for wh in ("east", "west")])


def test_each_warehouse_and_sku_is_written_as_todays_row_and_a_later_reading_replaces_it(engine, redis_client, prefix):
    ledger = StockLedger(redis_client, prefix)
    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG", on_hand=5, as_of=T0)], T0)
    ledger.apply_snapshot("acme", "west", [StockLevel(warehouse="west", seller_sku="MUG", on_hand=2, as_of=T0)], T0)
    ledger.reserve("acme", "order-1", [Allocation("east", (("MUG", 2),))])
    assert snapshot_stock(ledger, engine, SELLER, T0) == 2

    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG", on_hand=4,
                                                      as_of=T0 + timedelta(hours=1))], T0 + timedelta(hours=1))
    snapshot_stock(ledger, engine, SELLER, T0 + timedelta(hours=1))
    snapshot_stock(ledger, engine, SELLER, T0 + timedelta(days=1))  # tomorrow: a row of its own

    rows = stock_history(engine, "acme", "MUG", date(2026, 12, 6), date(2026, 12, 8))
    assert [(r.day.day, r.warehouse, r.on_hand, r.reserved) for r in rows] == [
        (6, "east", 4, 2), (6, "west", 2, 0), (7, "east", 4, 2), (7, "west", 2, 0)]
