"""Stock-out risk: days of cover, stock-out day, and the probability of running out within the lead time."""

from __future__ import annotations

import math
from datetime import date

import pytest

from config.schema import StockConfig, StockRiskConfig
from pipeline.decisions.distribution import HorizonDemand, over
from pipeline.decisions.forecast import forecast
from pipeline.decisions.risk import NO_DEMAND, assess, ranked

TODAY = date(2026, 12, 6)
STOCK = StockConfig(lead_time_days=14, safety_days=7, risk_threshold=0.2,
                    warehouses={"slow-wh": StockRiskConfig(lead_time_days=30, risk_threshold=0.5)})


def test_constant_demand_of_10_a_day_and_50_available_is_5_days_of_cover():
    row = assess("acme", "MUG", "east", {"on_hand": 60, "reserved": 10}, forecast([10] * 56), STOCK, TODAY)
    assert row.available == 50 and row.days_of_cover == 5.0 and row.stockout_date == date(2026, 12, 11)
    assert row.mean_daily == pytest.approx(10) and row.distribution == "poisson"
    assert row.probability == pytest.approx(1.0) and row.at_risk and row.reorder_now


def test_a_sku_with_no_sales_has_infinite_cover_no_probability_and_no_alert():
    row = assess("acme", "MUG", "east", {"on_hand": 3}, forecast([0] * 56), STOCK, TODAY)
    assert math.isinf(row.days_of_cover) and row.stockout_date is None
    assert row.probability == 0 and not row.at_risk and not row.reorder_now and row.distribution == "none"
    empty = assess("acme", "MUG", "east", {}, NO_DEMAND, STOCK, TODAY)
    assert empty.available == 0 and empty.probability == 0 and not empty.at_risk


def test_shipped_in_doubt_reserved_and_the_safety_buffer_come_off():
    stock = StockConfig(safety_buffer=5)
    row = assess("acme", "MUG", "east", {"on_hand": 100, "shipped": 10, "in_doubt": 5, "reserved": 20},
                 forecast([1] * 56), stock, TODAY)
    assert (row.available, row.buffer) == (60, 5) and row.days_of_cover == pytest.approx(60)
    assert assess("acme", "MUG", "east", {"on_hand": 3}, forecast([1] * 56), stock, TODAY).available == 0


def test_per_warehouse_terms_apply():
    demand = forecast([2] * 56)
    fast = assess("acme", "MUG", "east", {"on_hand": 40}, demand, STOCK, TODAY)
    slow = assess("acme", "MUG", "slow-wh", {"on_hand": 40}, demand, STOCK, TODAY)
    assert (fast.lead_time_days, fast.threshold) == (14, 0.2) and (slow.lead_time_days, slow.threshold) == (30, 0.5)
    # 40 units at 2/day: Poisson(28) over 14 days rarely exceeds 40; Poisson(60) over 30 days nearly always
    assert fast.probability < 0.05 and not fast.at_risk
    assert slow.probability > 0.99 and slow.at_risk
    # reorder now: 20 days of cover < 14 + 7, although the probability is low; 21 days are enough
    assert fast.reorder_now is True
    assert assess("acme", "MUG", "east", {"on_hand": 42}, demand, STOCK, TODAY).reorder_now is False


def test_poisson_tail_matches_a_direct_sum():
    m = 7.5
    direct = 1 - sum(math.exp(-m) * m ** k / math.factorial(k) for k in range(11))
    assert HorizonDemand(m, m).exceeds(10) == pytest.approx(direct, rel=1e-9)
    assert HorizonDemand(m, 1.0).exceeds(3) == pytest.approx(
        1 - sum(math.exp(-m) * m ** k / math.factorial(k) for k in range(4)), rel=1e-9)  # V <= M: Poisson
    assert HorizonDemand(m, m).exceeds(-1) == 1.0 and HorizonDemand(0, 0).exceeds(0) == 0.0


def test_negative_binomial_matches_its_pmf_and_is_wider_than_poisson():
    m, v = 6.0, 18.0
    p, r = m / v, m * m / (v - m)  # p = 1/3, r = 3: P(k) = C(k+2, k) p^3 (1-p)^k
    pmf = [math.comb(k + 2, k) * p ** 3 * (1 - p) ** k for k in range(200)]
    for k in (0, 2, 6, 15, 40):
        assert HorizonDemand(m, v).exceeds(k) == pytest.approx(1 - sum(pmf[:k + 1]), rel=1e-7, abs=1e-15)
    assert r == 3
    assert HorizonDemand(m, v).exceeds(15) > HorizonDemand(m, m).exceeds(15)
    assert HorizonDemand(m, v).kind == "negative binomial" and HorizonDemand(m, m).kind == "poisson"


def test_large_stocks_and_large_means_stay_finite_and_fast():
    assert over(1000.0, 1000.0, 30).exceeds(30_000) == pytest.approx(0.5, abs=0.01)
    assert over(1000.0, 5000.0, 30).exceeds(100_000) < 1e-12
    assert over(0.01, 0.02, 14).exceeds(1_000_000) < 1e-15


def test_rows_rank_most_at_risk_first():
    rows = [assess("acme", sku, "east", {"on_hand": n}, forecast([3] * 56), STOCK, TODAY)
            for sku, n in (("A", 200), ("B", 20), ("C", 45))]
    rows.append(assess("acme", "D", "east", {"on_hand": 0}, NO_DEMAND, STOCK, TODAY))
    assert [r.seller_sku for r in ranked(rows)] == ["B", "C", "A", "D"]
