"""The forecast: exponentially weighted mean and variance over 7 and 28 days, on zero-filled series."""

from __future__ import annotations

import pytest

from pipeline.decisions.forecast import forecast, weighted_mean, weighted_variance


def test_constant_demand_forecasts_itself_with_no_variance():
    fc = forecast([10] * 56)
    assert fc.mean == pytest.approx(10) and fc.fast == pytest.approx(10) and fc.slow == pytest.approx(10)
    assert fc.variance == pytest.approx(0, abs=1e-9) and fc.days == 56


def test_no_sales_is_zero_and_no_history_is_zero():
    assert forecast([0] * 28).mean == 0 and forecast([0] * 28).variance == 0
    assert forecast([]).mean == 0 and forecast([]).variance == 0


def test_weights_follow_the_span():
    """Span 7: alpha = 1/4, so yesterday weighs 1 and the day before 3/4."""
    assert weighted_mean([4, 0], 7) == pytest.approx((0 * 1 + 4 * 0.75) / 1.75)
    # two days, x = (4, 0), weights (0.75, 1): mean 12/7, reliability-weighted variance
    mean = 3 / 1.75
    v1, v2 = 1.75, 1 + 0.5625
    expected = (0.75 * (4 - mean) ** 2 + 1 * (0 - mean) ** 2) / (v1 - v2 / v1)
    assert weighted_variance([4, 0], 7) == pytest.approx(expected)


def test_a_sparse_sku_stays_stable_and_over_dispersed():
    """One order of 14 units a fortnight: the mean sits near 1/day whether the order was yesterday or
    a week ago, and the variance is far above the mean (negative binomial, not Poisson)."""
    just_sold = forecast(([0] * 13 + [14]) * 4)
    week_ago = forecast(([0] * 6 + [14] + [0] * 7) * 4)
    assert 0.5 < week_ago.mean < just_sold.mean < 2
    assert just_sold.mean / week_ago.mean < 2
    assert just_sold.fast / week_ago.fast > 5  # what the 7-day mean alone would swing by
    assert just_sold.variance > 5 * just_sold.mean


def test_a_rise_on_a_daily_seller_shows_within_days():
    fc = forecast([2] * 49 + [8] * 7)
    assert fc.slow < fc.mean == pytest.approx(fc.fast) and fc.mean > 5
