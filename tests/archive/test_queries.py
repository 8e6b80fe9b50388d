"""The archive's queries answer what history and analysis ask: a seller's orders by time, a SKU's lines by
day and warehouse, a SKU's stock by day (each served by its index; the migration tests check they exist)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from pipeline.archive import (
    SkuDay,
    StockSnapshot,
    archive_orders,
    archive_stock,
    orders_of_seller,
    sku_lines_by_day,
    snapshots_from_ledger,
    stock_history,
)
from pipeline.model import Money, OrderStatus
from tests.archive.helpers import archived

DAY1 = datetime(2026, 11, 2, 23, 59, 59, 999999, tzinfo=UTC)  # the last instant of a UTC day
DAY2 = datetime(2026, 11, 3, 0, 0, tzinfo=UTC)


def test_orders_of_a_seller_in_a_half_open_window_oldest_first(engine):
    archive_orders(engine, [archived(1, placed=DAY2 + timedelta(hours=5)), archived(2, placed=DAY1),
                            archived(3, placed=DAY2), archived(4, placed=DAY2 + timedelta(days=1)),
                            archived(5, placed=DAY2, seller="globex")])
    found = orders_of_seller(engine, "acme", DAY1, DAY2 + timedelta(days=1))
    assert [o.key for o in found] == [archived(n).key for n in (2, 3, 1)]
    first = found[0]
    assert (first.status, first.destination_country, first.units, first.placed_at) == (OrderStatus.SHIPPED, "US", 2, DAY1)
    assert first.total == Money(Decimal("9999999999.99"), "USD") and first.closed_at == DAY1 + timedelta(days=1)
    assert [o.key for o in orders_of_seller(engine, "acme", DAY1, DAY2 + timedelta(days=2), limit=1)] == [found[0].key]
    assert orders_of_seller(engine, "nobody", DAY1, DAY2) == []


def test_lines_of_a_sku_by_utc_day_and_warehouse(engine):
    archive_orders(engine, [
        archived(1, placed=DAY1, lines=(("MUG-01", 2), ("CUP-02", 1))),  # east
        archived(2, placed=DAY1, lines=(("MUG-01", 1),), warehouses=("west",)),
        archived(3, placed=DAY2, lines=(("MUG-01", 4),)),  # east, the next UTC day
        archived(4, placed=DAY2, lines=(("MUG-01", 3),), warehouses=("east", "west")),  # split: no one warehouse
        archived(5, placed=DAY2, lines=(("MUG-01", 5),), warehouses=()),  # never reached a warehouse
        archived(6, placed=DAY2, lines=(("MUG-01", 7),), seller="globex"),
    ])
    days = sku_lines_by_day(engine, "acme", "MUG-01", DAY1.date(), DAY2.date() + timedelta(days=1))
    assert days == [
        SkuDay(day=DAY1.date(), warehouse="east", lines=1, orders=1, units=2, cancelled_units=0, shipped_units=0),
        SkuDay(day=DAY1.date(), warehouse="west", lines=1, orders=1, units=1, cancelled_units=0, shipped_units=0),
        SkuDay(day=DAY2.date(), warehouse=None, lines=2, orders=2, units=8, cancelled_units=0, shipped_units=0),
        SkuDay(day=DAY2.date(), warehouse="east", lines=1, orders=1, units=4, cancelled_units=0, shipped_units=0),
    ]
    assert sku_lines_by_day(engine, "acme", "MUG-01", DAY1.date(), DAY2.date(), warehouse="west") == [days[1]]
    assert [d.units for d in sku_lines_by_day(engine, "acme", "CUP-02", DAY1.date(), DAY2.date())] == [1]


def test_stock_snapshots_upsert_per_day_seller_sku_and_warehouse(engine):
    morning = datetime(2026, 11, 2, 6, tzinfo=UTC)
    totals = {"MUG-01": {"on_hand": 40, "reserved": 3, "in_doubt": 1, "shipped": 2}, "CUP-02": {"on_hand": 5}}
    rows = snapshots_from_ledger("acme", "east", totals, morning)
    rows += snapshots_from_ledger("acme", "west", {"MUG-01": {"on_hand": 7}}, morning)
    rows += snapshots_from_ledger("acme", "east", {"MUG-01": {"on_hand": 38}}, morning + timedelta(days=1))
    assert archive_stock(engine, rows) == 4
    evening = morning + timedelta(hours=12)
    later = snapshots_from_ledger("acme", "east", {"MUG-01": {"on_hand": 30, "reserved": 1}}, evening)
    assert archive_stock(engine, later) == 1  # the same day again: replaced, not added
    stale = snapshots_from_ledger("acme", "east", {"MUG-01": {"on_hand": 99}}, morning + timedelta(hours=1))
    archive_stock(engine, stale)  # taken before the stored one: left as it was
    history = stock_history(engine, "acme", "MUG-01", date(2026, 11, 1), date(2026, 11, 4))
    assert [(s.day, s.warehouse, s.on_hand, s.reserved) for s in history] == [
        (date(2026, 11, 2), "east", 30, 1), (date(2026, 11, 2), "west", 7, 0), (date(2026, 11, 3), "east", 38, 0)]
    assert history[0] == StockSnapshot(seller="acme", day=date(2026, 11, 2), warehouse="east", seller_sku="MUG-01",
                                       on_hand=30, reserved=1, in_doubt=0, shipped=0, taken_at=evening)
    assert history[0].taken_at.tzinfo is UTC
    assert [s.on_hand for s in stock_history(engine, "acme", "CUP-02", date(2026, 11, 2), date(2026, 11, 3))] == [5]
