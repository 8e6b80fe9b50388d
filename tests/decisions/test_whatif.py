"""The routing what-if: the same config shows no delta, a warehouse added for a country releases exactly
that country's NO_WAREHOUSE_FOR_COUNTRY holds, reservations are simulated in placed order on each day's
stock as it stood, and the figures count what docs/routing-whatif.md says. Archive on both databases."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from pipeline.archive import archive_orders, archive_stock
from pipeline.decisions.replay_orders import Outcome, ReplayOrder, archived_replay_orders
from pipeline.decisions.replay_stock import LEDGER, OLDER, PREVIOUS_DAY, StartingStock, snapshot_days
from pipeline.decisions.whatif import run_what_if, simulate
from pipeline.decisions.whatif_figures import Figures, figures
from pipeline.model import Address, HoldReason, OrderLine, StockLevel
from pipeline.stages import Stage
from pipeline.stock import StockLedger
from tests.decisions.test_replay_orders import (
    DAY,
    GB,
    SELLER,
    SINCE,
    UNTIL,
    US,
    archived,
    config,
    snapshot,
    warehouse,
)
from tests.factories import make_order, received

EAST = warehouse("east", ["US"], country="US", priority=1, cost=1.0, handling=1)
WEST = warehouse("west", ["US", "CA"], country="CA", priority=2, cost=2.0, handling=3)
JP = Address(country="JP", name="Sato Yui", line1="1-1 Umeda", city="Osaka", region="Osaka", postal_code="530-0001",
             pii_complete=True)
UK = warehouse("uk", ["GB"], country="GB", cost=1.5)
PRODUCTION = config(EAST, WEST, split=True)


def _whatif(engine, store, candidate, production=PRODUCTION):
    """The what-if of [SINCE, UNTIL) as the CLI assembles it (engine None: no archive)."""
    first, last = SINCE.date(), (UNTIL - timedelta(microseconds=1)).date()
    archived = [] if engine is None else _archived(engine)
    snapshots = {} if engine is None else snapshot_days(engine, SELLER, first, last)
    return run_what_if(store, archived, snapshots, production, candidate, SINCE, UNTIL)


def _archived(engine):
    return archived_replay_orders(engine, SELLER, SINCE, UNTIL)


def _hot(n, at, to):
    """A Redis order of one MUG, its line unmapped as a platform sends it (routing maps it: identity)."""
    line = OrderLine(line_ids=(f"{n}-0",), platform_sku="MUG", quantity=1)
    return msgspec.structs.replace(make_order(n), placed_at=at, updated_at=at, ship_to=to, lines=(line,))


def _history(engine, store):
    """Two days of orders in both tiers: routed, split, cross-border, held for GB and JP (no warehouse) and short."""
    eve = DAY.date() - timedelta(days=1)
    archive_stock(engine, [snapshot(eve, "east", "MUG", 5), snapshot(eve, "west", "MUG", 2),
                           snapshot(eve, "west", "CUP", 5), snapshot(eve, "uk", "MUG", 10),
                           snapshot(DAY.date(), "east", "MUG", 1), snapshot(DAY.date(), "uk", "MUG", 10)])
    archive_orders(engine, [
        *(archived(n, sent=("east",)) for n in range(1, 5)),  # east has 5 MUG
        # neither holds both lines: split, east's last MUG and west's two (west stands in CA: cross-border)
        archived(5, sent=("east", "west"), lines=(("MUG", 3), ("CUP", 1))),
        archived(6, sent=("west",), lines=(("MUG", 2),)),  # no MUG left in the replay: held short
        archived(7, stage=Stage.HELD, hold=HoldReason.NO_WAREHOUSE_FOR_COUNTRY, to=GB, shipped=False),
        archived(8, stage=Stage.HELD, hold=HoldReason.NO_WAREHOUSE_FOR_COUNTRY, to=GB, shipped=False),
        archived(9, sent=("west",), lines=(("CUP", 9),)),  # west has 4 CUP left: held short in the replay
        archived(12, stage=Stage.HELD, hold=HoldReason.NO_WAREHOUSE_FOR_COUNTRY, to=JP, shipped=False),
        archived(10, at=DAY + timedelta(days=1), sent=("east",), ship_by=DAY + timedelta(days=1, hours=6)),
    ])
    hot = _hot(11, DAY + timedelta(days=1, hours=1), GB)
    store.upsert(SELLER, [received(hot)])
    store.hold(SELLER, hot.key, HoldReason.NO_WAREHOUSE_FOR_COUNTRY, "no warehouse for GB")
    store.set_stage(SELLER, hot.key, Stage.HELD)
    return [make_order(n).key for n in (7, 8, 11)]


def test_the_same_config_shows_no_delta(engine, store):
    _history(engine, store)
    report = _whatif(engine, store, PRODUCTION)
    assert report.delta == Figures()
    assert report.moved == {} and report.changed == 0 and report.changed_keys == []
    assert report.baseline == report.candidate
    base = report.baseline
    assert base.orders == 12 and base.holds == {"INSUFFICIENT_STOCK": 2, "NO_WAREHOUSE_FOR_COUNTRY": 4}
    assert base.per_warehouse == {"east": 6, "west": 1} and base.split == 1 and base.routed == 6
    assert (base.cross_border, base.domestic, base.cost_hint) == (1, 5, 8.0)
    assert base.ship_by_misses == 1 and base.without_ship_by == 5  # order 10: one handling day, 6 hours
    assert (report.tiers.archive, report.tiers.redis, report.tiers.both) == (11, 1, 0)
    assert report.stock_days == {PREVIOUS_DAY: 2}
    assert report.recorded.per_warehouse == {"east": 6, "west": 3} and report.recorded.holds == {
        "NO_WAREHOUSE_FOR_COUNTRY": 4}


def test_a_warehouse_added_for_a_country_releases_exactly_its_no_warehouse_holds(engine, store):
    held_for_gb = _history(engine, store)
    report = _whatif(engine, store, config(EAST, WEST, UK, split=True))
    assert report.moved == {"held NO_WAREHOUSE_FOR_COUNTRY -> uk": 3}
    assert report.changed == 3 and sorted(report.changed_keys) == sorted(held_for_gb)
    assert report.delta.holds == {"NO_WAREHOUSE_FOR_COUNTRY": -3} and report.delta.per_warehouse == {"uk": 3}
    assert report.candidate.holds["NO_WAREHOUSE_FOR_COUNTRY"] == 1  # the order to JP stays held
    assert (report.delta.routed, report.delta.held, report.delta.domestic, report.delta.cross_border) == (3, -3, 3, 0)
    assert report.delta.cost_hint == pytest.approx(4.5) and report.delta.split == 0
    assert report.delta.ship_by_misses == 0


def test_reservations_are_simulated_in_placed_order_on_each_day_s_stock(engine, store):
    eve, day = DAY.date() - timedelta(days=1), DAY.date()
    archive_stock(engine, [snapshot(eve, "east", "MUG", 1), snapshot(day, "east", "MUG", 3, reserved=2)])
    archive_orders(engine, [archived(2, sent=("east",)), archived(1, sent=("east",)),
                            archived(3, at=DAY + timedelta(days=1), sent=("east",))])
    east_only = config(EAST)
    report = _whatif(engine, store, east_only, production=east_only)
    assert report.baseline.per_warehouse == {"east": 2} and report.baseline.holds == {"INSUFFICIENT_STOCK": 1}
    orders = sorted(_archived(engine), key=lambda item: item.order.placed_at)
    first, last = SINCE.date(), UNTIL.date()
    outcomes = simulate(orders, east_only, StartingStock(snapshot_days(engine, SELLER, first, last), dict))
    # the earlier order takes the one MUG; the next day starts from its own snapshot (3 on hand, 2 reserved)
    assert outcomes == [Outcome(("east",)), Outcome(hold="INSUFFICIENT_STOCK"), Outcome(("east",))]


def test_days_without_a_snapshot_start_from_an_older_one_or_the_ledger(engine, store):
    archive_stock(engine, [snapshot(DAY.date() - timedelta(days=3), "east", "MUG", 1)])
    archive_orders(engine, [archived(1, sent=("east",)), archived(2, sent=("east",))])
    report = _whatif(engine, store, config(EAST), production=config(EAST))
    assert report.stock_days == {OLDER: 1} and report.baseline.holds == {"INSUFFICIENT_STOCK": 1}

    ledger = StockLedger(store.redis, store.prefix)
    ledger.apply_snapshot(SELLER, "east", [StockLevel(warehouse="east", seller_sku="MUG", on_hand=2, as_of=DAY)], DAY)
    orders = [_hot(n, DAY + timedelta(minutes=n), US) for n in (1, 2, 3)]
    store.upsert(SELLER, [received(order) for order in orders])
    for order in orders:
        store.set_stage(SELLER, order.key, Stage.ROUTED)
    hot_only = _whatif(None, store, config(EAST), production=config(EAST))
    assert hot_only.stock_days == {LEDGER: 1}
    assert hot_only.baseline.holds == {"INSUFFICIENT_STOCK": 1} and hot_only.baseline.per_warehouse == {"east": 2}


def test_figures_count_parcels_borders_splits_costs_and_ship_by_misses():
    cfg = config(EAST, WEST, warehouse("dark", ["US"], cost=0.5, handling=0.1))
    placed = DAY
    items = [ReplayOrder(msgspec.structs.replace(make_order(n), placed_at=placed, ship_to=US,
                                                 ship_by=placed + timedelta(days=2) if n != 4 else None),
                         "archive", Outcome()) for n in range(6)]
    outcomes = [Outcome(("east",)), Outcome(("east", "west")), Outcome(("dark",)), Outcome(hold="UNKNOWN_SKU"),
                Outcome(("gone",)), Outcome()]
    fig = figures(items, outcomes, cfg)
    assert (fig.orders, fig.routed, fig.held, fig.nothing_to_ship) == (6, 4, 1, 1)
    assert fig.per_warehouse == {"dark": 1, "east": 2, "gone": 1, "west": 1}
    # east: domestic; east+west: across (west stands in CA); dark and gone: country not known
    assert (fig.domestic, fig.cross_border, fig.unknown_country) == (1, 1, 2)
    assert fig.cross_border_share == 0.25 and fig.split == 1 and fig.split_rate == 0.25
    assert fig.cost_hint == pytest.approx(1.0 + 3.0 + 0.5) and fig.unpriced_parcels == 1
    # east+west: 3 handling days against a 2-day ship-by; order 4 has no ship-by and is not counted
    assert fig.ship_by_misses == 1 and fig.without_ship_by == 1
