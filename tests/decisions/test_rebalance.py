"""Transfer suggestions: the lane that removes a predicted stock-out comes first; nothing that would
make the source run short, nothing that arrives too late, nothing when no SKU is at risk."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from config.schema import StockConfig, TransferLane
from pipeline.decisions.forecast import forecast
from pipeline.decisions.rebalance import suggest, total_probability
from pipeline.decisions.risk import NO_DEMAND, assess

TODAY = date(2026, 12, 6)
STOCK = StockConfig(lead_time_days=14, safety_days=7, risk_threshold=0.2)
TERMS = {wh: (14.0, 7.0) for wh in ("de", "fr", "uk")}


def _lane(src, dst, days=3.0, cost=1.0):
    return TransferLane(from_=src, to=dst, days=days, cost_per_unit=cost)


def _situation(stock: dict[tuple[str, str], int], demand: dict[tuple[str, str], int]):
    forecasts = {pair: forecast([per_day] * 56) for pair, per_day in demand.items()}
    rows = [assess("acme", sku, wh, {"on_hand": n}, forecasts.get((sku, wh), NO_DEMAND), STOCK, TODAY)
            for (sku, wh), n in stock.items()]
    return rows, forecasts


def test_a_lane_that_removes_a_predicted_stock_out_is_suggested_first():
    # uk sells 5 MUG a day and holds 20: out in 4 days, long before its 14-day lead time. de holds 400 at
    # 5/day (needs 105 for 21 days). The fr -> uk lane is cheaper, but CUP at uk sells nothing.
    rows, forecasts = _situation({("MUG", "uk"): 20, ("MUG", "de"): 400, ("CUP", "fr"): 60, ("CUP", "uk"): 0},
                                 {("MUG", "uk"): 5, ("MUG", "de"): 5, ("CUP", "fr"): 1, ("CUP", "uk"): 0})
    before = {(r.seller_sku, r.warehouse): r.probability for r in rows}
    assert before[("MUG", "uk")] > 0.99
    lanes = [_lane("fr", "uk", cost=0.5), _lane("de", "uk", days=2, cost=1.2)]
    moves = suggest(rows, forecasts, lanes, TERMS)
    first = moves[0]
    assert (first.seller_sku, first.source, first.destination) == ("MUG", "de", "uk")
    assert first.destination_before > 0.99 and first.destination_after < STOCK.risk_threshold
    assert first.source_after < 0.01  # de keeps what it needs itself
    assert 400 - first.quantity >= 105
    assert first.cost == Decimal("1.2") * first.quantity
    assert "keeps 105" in first.why_from and "against a lead time of 14 days" in first.why_to
    assert "move" in first.explain() and "arrives in 2 days" in first.explain()
    assert all(m.seller_sku != "CUP" for m in moves)  # CUP at uk has no demand: nothing to gain there
    assert total_probability(rows) > first.destination_after


def test_units_arriving_after_the_lead_time_help_nothing_and_nothing_moves_without_risk():
    rows, forecasts = _situation({("MUG", "uk"): 10, ("MUG", "de"): 400}, {("MUG", "uk"): 5, ("MUG", "de"): 5})
    assert suggest(rows, forecasts, [_lane("de", "uk", days=14)], TERMS) == []
    calm, calm_forecasts = _situation({("MUG", "uk"): 200, ("MUG", "de"): 400},
                                      {("MUG", "uk"): 5, ("MUG", "de"): 5})
    assert suggest(calm, calm_forecasts, [_lane("de", "uk")], TERMS) == []


def test_the_arrival_delay_counts():
    """uk runs out around day 2 whatever arrives on day 6; the same units on day 1 save most of it."""
    rows, forecasts = _situation({("MUG", "uk"): 12, ("MUG", "de"): 400}, {("MUG", "uk"): 5, ("MUG", "de"): 5})
    quick = suggest(rows, forecasts, [_lane("de", "uk", days=1)], TERMS)
    slow = suggest(rows, forecasts, [_lane("de", "uk", days=6)], TERMS)
    assert quick and quick[0].destination_after < 0.2
    assert not slow or slow[0].destination_after > 0.9


def test_a_source_never_goes_below_its_own_need():
    # de holds 110 at 5/day and needs 105: at most 5 can go, and they do not save uk
    rows, forecasts = _situation({("MUG", "uk"): 0, ("MUG", "de"): 110}, {("MUG", "uk"): 5, ("MUG", "de"): 5})
    moves = suggest(rows, forecasts, [_lane("de", "uk")], TERMS)
    assert sum(m.quantity for m in moves) <= 5


def test_a_destination_without_a_row_yet_is_supplied_by_a_same_day_lane_only():
    """uk has sold MUG but the ledger has no row there (none held): it is out already, so only units that
    arrive at once change whether it is out within the lead time (the objective is that probability)."""
    forecasts = {("MUG", "uk"): forecast([4] * 56), ("MUG", "de"): forecast([1] * 56)}
    rows = [assess("acme", "MUG", "de", {"on_hand": 300}, forecasts[("MUG", "de")], STOCK, TODAY)]
    assert suggest(rows, forecasts, [_lane("de", "uk", days=3)], TERMS) == []
    moves = suggest(rows, forecasts, [_lane("de", "uk", days=0)], TERMS)
    assert [(m.source, m.destination) for m in moves] == [("de", "uk")]
    assert moves[0].destination_before == pytest.approx(1.0) and moves[0].destination_after < 0.2


def test_a_destination_gets_at_most_what_it_needs_even_from_a_source_with_plenty_to_spare():
    # The demo's case: uk sells a little every day and is nearly out; de holds 500 and sells nothing.
    # Past uk's need for lead time + safety days its risk still falls by a hair per unit: no reason to
    # empty de into it.
    rows, forecasts = _situation({("MUG", "uk"): 2, ("MUG", "de"): 500}, {("MUG", "uk"): 1, ("MUG", "de"): 0})
    (move,) = suggest(rows, forecasts, [_lane("de", "uk", days=2)], TERMS)
    need = 21  # 1/day over 14 + 7 days
    assert move.quantity <= need - 2 and move.destination_after < move.destination_before
