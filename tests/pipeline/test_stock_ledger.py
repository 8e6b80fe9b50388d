from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.model import StockLevel
from pipeline.stock import Allocation, StockLedger

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def ledger(redis_client, prefix):
    ledger = StockLedger(redis_client, prefix)
    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG", on_hand=5, as_of=T0),
                                           StockLevel(warehouse="east", seller_sku="BOWL", on_hand=1, as_of=T0)], T0)
    return ledger


def test_reserve_is_all_or_nothing(ledger):
    allocations, short, fresh = ledger.reserve("acme", "o1", [Allocation("east", (("MUG", 2), ("BOWL", 2)))])
    assert allocations == [] and not fresh and [(s.seller_sku, s.wanted, s.available) for s in short] == [("BOWL", 2, 1)]
    assert ledger.view("acme", [("east", "MUG"), ("east", "BOWL")]) == {("east", "MUG"): 5, ("east", "BOWL"): 1}


def test_reserve_is_idempotent_per_order(ledger):
    first, _, made = ledger.reserve("acme", "o1", [Allocation("east", (("MUG", 2),))])
    again, _, made_again = ledger.reserve("acme", "o1", [Allocation("east", (("MUG", 3),))])
    assert first == again == [Allocation("east", (("MUG", 2),))] and made and not made_again
    assert ledger.view("acme", [("east", "MUG")])[("east", "MUG")] == 3


def test_release_gives_units_back_once(ledger):
    ledger.reserve("acme", "o1", [Allocation("east", (("MUG", 4),))])
    assert ledger.release("acme", "o1") and not ledger.release("acme", "o1")
    assert ledger.view("acme", [("east", "MUG")])[("east", "MUG")] == 5


def test_consume_moves_reserved_to_shipped_once(ledger):
    ledger.reserve("acme", "o1", [Allocation("east", (("MUG", 2),))])
    assert ledger.consume("acme", "o1", "east", "ship-1", T0 + timedelta(hours=1), [("MUG", 2)])
    assert not ledger.consume("acme", "o1", "east", "ship-1", T0 + timedelta(hours=1), [("MUG", 2)])
    assert ledger.totals("acme", "east")["MUG"] == {"on_hand": 5, "shipped": 2, "in_doubt": 0, "reserved": 0}
    assert ledger.view("acme", [("east", "MUG")])[("east", "MUG")] == 3


def test_snapshot_does_not_double_count_units_shipped_before_it(ledger):
    ledger.reserve("acme", "o1", [Allocation("east", (("MUG", 2),))])
    ledger.reserve("acme", "o2", [Allocation("east", (("MUG", 1),))])
    ledger.consume("acme", "o1", "east", "s1", T0 + timedelta(hours=1), [("MUG", 2)])  # shipped at T0+1h
    ledger.consume("acme", "o2", "east", "s2", T0 + timedelta(hours=3), [("MUG", 1)])  # shipped at T0+3h
    # The warehouse counted at T0+2h: o1's units are gone from its count, o2's still on the shelf.
    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG", on_hand=3,
                                                      as_of=T0 + timedelta(hours=2))], T0 + timedelta(hours=2))
    assert ledger.totals("acme", "east")["MUG"] == {"on_hand": 3, "shipped": 1, "in_doubt": 0, "reserved": 0}
    assert ledger.view("acme", [("east", "MUG")])[("east", "MUG")] == 2
    # An older report arriving late changes nothing.
    assert not ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG", on_hand=50,
                                                                 as_of=T0)], T0)
    assert ledger.view("acme", [("east", "MUG")])[("east", "MUG")] == 2


def test_a_shipment_stamped_just_before_a_snapshot_it_is_missing_from_still_counts(ledger):
    """Found by the chaos run (one unit oversold): the warehouse's clock ran a fraction of a second
    behind ours, so a shipment it stamped before our `as_of` was not yet in its inventory report."""
    ledger.reserve("acme", "o1", [Allocation("east", (("MUG", 1),))])
    taken = T0 + timedelta(hours=2)
    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG", on_hand=5,
                                                      as_of=taken)], taken)  # still shows o1's unit
    ledger.consume("acme", "o1", "east", "s1", taken - timedelta(seconds=0.5), [("MUG", 1)])
    assert ledger.view("acme", [("east", "MUG")])[("east", "MUG")] == 4  # not 5: that would oversell


def test_a_shipment_the_report_already_counts_is_not_counted_twice_once_a_later_report_settles_it(ledger):
    """The end-to-end run's ledger showed on_hand 1, shipped 3: shipments stamped in the seconds
    around a report were both gone from its on-hand and counted as shipped after it."""
    ledger.reserve("acme", "o1", [Allocation("east", (("MUG", 2),))])
    taken = T0 + timedelta(hours=2)
    ledger.consume("acme", "o1", "east", "s1", taken + timedelta(seconds=1), [("MUG", 2)])
    # The report, read over the next 2 s, already shows the 2 units gone (5 - 2).
    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG", on_hand=3, as_of=taken)],
                          taken, until=taken + timedelta(seconds=2))
    row = ledger.totals("acme", "east")["MUG"]
    assert row == {"on_hand": 3, "shipped": 0, "in_doubt": 2, "reserved": 0}
    assert row["reserved"] + row["shipped"] <= row["on_hand"]
    assert ledger.view("acme", [("east", "MUG")])[("east", "MUG")] == 1  # in doubt: sell less until settled
    later = taken + timedelta(minutes=5)
    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG", on_hand=3, as_of=later)],
                          later)
    assert ledger.totals("acme", "east")["MUG"] == {"on_hand": 3, "shipped": 0, "in_doubt": 0, "reserved": 0}
    assert ledger.available_all("acme", ["east"])[("east", "MUG")] == 3


def test_shipments_well_after_a_report_count_as_shipped_and_reserve_against_the_rest(ledger):
    taken = T0 + timedelta(hours=2)
    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG", on_hand=5, as_of=taken)],
                          taken, until=taken + timedelta(seconds=1))
    ledger.reserve("acme", "o1", [Allocation("east", (("MUG", 1),))])
    ledger.consume("acme", "o1", "east", "s1", taken + timedelta(minutes=1), [("MUG", 1)])
    ledger.reserve("acme", "o2", [Allocation("east", (("MUG", 1),))])
    ledger.consume("acme", "o2", "east", "s2", taken + timedelta(seconds=5), [("MUG", 1)])  # inside the doubt
    assert ledger.totals("acme", "east")["MUG"] == {"on_hand": 5, "shipped": 1, "in_doubt": 1, "reserved": 0}
    _, short, _ = ledger.reserve("acme", "o3", [Allocation("east", (("MUG", 4),))])
    assert short and short[0].available == 3
