"""Demand per SKU, warehouse and destination country from both tiers, each order once, on SQLite and
PostgreSQL: met demand from routed, submitted and shipped orders, lost demand from orders held for stock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import partial

import msgspec

from config.schema import SellerConfig, WarehouseConfig
from pipeline.archive import archive_orders
from pipeline.archive.reader import DemandDay, demand_by_day
from pipeline.decisions.demand import (
    Demand,
    by_country,
    daily_series,
    preferred_warehouse,
    seller_demand,
)
from pipeline.decisions.hot_orders import hot_orders
from pipeline.model import Address, FulfilledBy, Hold, HoldReason, OrderStatus, StockLevel
from pipeline.stages import Stage
from pipeline.stock import Allocation, StockLedger
from tests.archive.helpers import archived, order
from tests.factories import received

DAY1 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
SINCE, UNTIL = date(2026, 11, 1), date(2026, 11, 5)
GB = Address(country="GB", name="Jane Placeholder", line1="1 Test Street", city="London", postal_code="E1 6AN",
             pii_complete=True)


def _wh(wid: str, countries: list[str], priority: int, cost: float = 1.0) -> WarehouseConfig:
    return WarehouseConfig(id=wid, kind="shipbob", credentials={}, countries=countries, priority=priority,
                           cost_hint=cost)


SELLER = SellerConfig(seller="acme", warehouses=[_wh("west", ["US"], 2), _wh("east", ["US", "CA"], 1),
                                                 _wh("uk", ["GB"], 1), _wh("uk-2", ["GB"], 1, cost=0.5)])


def _held_for_stock(n: int, **kw):
    return msgspec.structs.replace(archived(n, warehouses=(), stage="held", **kw),
                                   hold=Hold(HoldReason.INSUFFICIENT_STOCK, "MUG: need 3, 0 free"))


def _archive(engine):
    archive_orders(engine, [
        archived(1, placed=DAY1, lines=(("MUG", 2), ("CUP", 1))),  # shipped from east
        archived(2, placed=DAY1, lines=(("MUG", 1),), warehouses=("west",)),
        archived(3, placed=DAY1, lines=(("MUG", 9),), status=OrderStatus.CANCELLED),
        _held_for_stock(4, placed=DAY2, lines=(("MUG", 3),)),  # lost, at the preferred US warehouse: east
        msgspec.structs.replace(archived(5, placed=DAY1, lines=(("MUG", 8),)), fulfilled_by=FulfilledBy.PLATFORM),
        archived(6, placed=DAY1, lines=(("MUG", 7),), stage="ignored"),
        archived(7, placed=DAY1, lines=(("MUG", 4),)),  # also in Redis, where it went to west
        archived(8, placed=DAY1 - timedelta(days=30), lines=(("MUG", 5),)),  # before the window
        archived(9, placed=DAY1, lines=(("MUG", 6),), seller="globex"),
    ])


def _hot(store):
    ledger, now = StockLedger(store.redis, store.prefix), datetime.now(UTC)
    for wh in ("east", "west"):
        ledger.apply_snapshot("acme", wh, [StockLevel(warehouse=wh, seller_sku="MUG", on_hand=50, as_of=now)], now)

    def put(n, stage, placed, lines, *, ship_to=None, hold=None, allocation=None, cancelled=0):
        canonical = order(n, placed=placed, lines=lines, status=OrderStatus.READY)
        if ship_to is not None:
            canonical = msgspec.structs.replace(canonical, ship_to=ship_to)
        if cancelled:
            first = msgspec.structs.replace(canonical.lines[0], cancelled_quantity=cancelled)
            canonical = msgspec.structs.replace(canonical, lines=(first, *canonical.lines[1:]))
        store.upsert("acme", [received(canonical)])
        if stage is not None:
            store.set_stage("acme", canonical.key, stage)
        if hold is not None:
            store.hold("acme", canonical.key, hold, "no stock")
        if allocation:
            ledger.reserve("acme", canonical.key, [Allocation(wh, ((sku, qty),)) for wh, sku, qty in allocation])

    put(7, Stage.SHIPPED, DAY1, (("MUG", 4),), allocation=[("west", "MUG", 4)])
    put(10, Stage.ROUTED, DAY2, (("MUG", 5),), allocation=[("east", "MUG", 5)])
    put(11, None, DAY2, (("MUG", 2),), ship_to=GB, hold=HoldReason.INSUFFICIENT_STOCK)  # lost at uk-2 (cheaper)
    put(12, Stage.RECEIVED, DAY2, (("MUG", 6),))  # not routed yet: not demand yet
    put(13, Stage.SUBMITTED, DAY2, (("MUG", 3),), cancelled=1, allocation=[("west", "MUG", 2)])
    put(14, Stage.ROUTED, DAY2, (("MUG", 6),), allocation=[("east", "MUG", 2), ("west", "MUG", 4)])  # a split
    put(15, None, DAY2, (("MUG", 1),), hold=HoldReason.ADDRESS_INCOMPLETE)
    put(16, Stage.SUBMITTED, DAY2, (("MUG", 1),), hold=HoldReason.CANCEL_TOO_LATE, allocation=[("west", "MUG", 1)])


def test_the_archive_query_sums_units_and_lost_per_day_sku_warehouse_and_country(engine):
    _archive(engine)
    rows = demand_by_day(engine, "acme", SINCE, UNTIL)
    assert rows == [
        DemandDay(day=DAY1.date(), seller_sku="CUP", warehouse="east", country="US", units=1, lost=0),
        DemandDay(day=DAY1.date(), seller_sku="MUG", warehouse="east", country="US", units=6, lost=0),
        DemandDay(day=DAY1.date(), seller_sku="MUG", warehouse="west", country="US", units=1, lost=0),
        DemandDay(day=DAY2.date(), seller_sku="MUG", warehouse=None, country="US", units=0, lost=3),
    ]
    only = demand_by_day(engine, "acme", SINCE, UNTIL, [archived(7).key, archived(4).key, "amazon:none:x"])
    assert [(r.day, r.warehouse, r.units, r.lost) for r in only] == [(DAY1.date(), "east", 4, 0),
                                                                     (DAY2.date(), None, 0, 3)]
    assert demand_by_day(engine, "acme", SINCE, UNTIL, []) == []


def test_both_tiers_count_each_order_once_and_lost_demand_at_the_preferred_warehouse(engine, store):
    _archive(engine)
    _hot(store)
    hot = list(hot_orders(store, "acme"))
    found = seller_demand(SELLER, hot, partial(demand_by_day, engine), SINCE, UNTIL)
    d1, d2 = DAY1.date(), DAY2.date()
    assert found == [
        Demand(day=d1, seller_sku="CUP", warehouse="east", country="US", units=1),
        Demand(day=d1, seller_sku="MUG", warehouse="east", country="US", units=2),  # order 7 counted at west
        Demand(day=d1, seller_sku="MUG", warehouse="west", country="US", units=1 + 4),
        Demand(day=d2, seller_sku="MUG", warehouse="east", country="US", units=5 + 2, lost=3),
        Demand(day=d2, seller_sku="MUG", warehouse="uk-2", country="GB", lost=2),
        Demand(day=d2, seller_sku="MUG", warehouse="west", country="US", units=2 + 4 + 1),
    ]
    series = daily_series(found, SINCE, UNTIL)
    assert series[("MUG", "east")] == [0, 2, 10, 0] and series[("MUG", "west")] == [0, 5, 7, 0]
    assert series[("CUP", "east")] == [0, 1, 0, 0]
    assert by_country(found)[("MUG", "uk-2")] == {"GB": 2}
    # without an archive: Redis only
    hot_only = seller_demand(SELLER, hot, None, SINCE, UNTIL)
    assert sum(d.total for d in hot_only) == 4 + 5 + 2 + 2 + 6 + 1


def test_preferred_warehouse_follows_routing_order():
    assert preferred_warehouse(SELLER, "US") == "east" and preferred_warehouse(SELLER, "CA") == "east"
    assert preferred_warehouse(SELLER, "GB") == "uk-2" and preferred_warehouse(SELLER, "JP") == ""
