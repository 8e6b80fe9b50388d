"""Daily demand forecast of one SKU at one warehouse: exponentially weighted mean and variance.

Input is a zero-filled daily series, oldest first (pipeline/decisions/demand.daily_series). Two
exponentially weighted means, with spans of 7 and 28 days (alpha = 2 / (span + 1)), weights normalised
so that a short history is not pulled towards zero by an imagined past:

    m_s = sum_i w_i x_i / sum_i w_i,   w_i = (1 - alpha_s) ** age_i   (age 0 = the newest day)

The forecast mean blends them, trusting the fast one as far as the last week gives it days to rest on:

    mean = w m_7 + (1 - w) m_28,   w = (days with demand among the last 7) / 7

A SKU selling every day follows m_7 and so a real change within days; a sparse SKU (one order of 14
units a fortnight) follows m_28 and does not swing between nearly 0 and a burst with every order, which
a 7-day mean alone (or a fixed blend) would do. The daily variance is the 28-day weighted variance around m_28, corrected for
the effective number of days (V1^2 / (V1^2 - V2), V1 = sum w, V2 = sum w^2): sparse, bursty SKUs get a
large variance, which the risk model (risk.py) turns into a wider, negative binomial, spread.

No weekday profile: the horizons asked about are lead times of one to several weeks, over which a
weekday pattern sums out; on the daily level it would be noise fitted to a handful of orders.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

SPANS = (7, 28)


class Forecast(msgspec.Struct, frozen=True, kw_only=True):
    mean: float  # units per day
    variance: float  # of one day's units
    fast: float  # the 7-day weighted mean
    slow: float  # the 28-day weighted mean
    days: int  # days of history it rests on


def weighted_mean(series: Sequence[float], span: int) -> float:
    """Exponentially weighted mean of `series` (oldest first), normalised weights; 0.0 for no days."""
    decay = 1 - 2 / (span + 1)
    total = weights = 0.0
    w = 1.0
    for x in reversed(series):
        total += w * x
        weights += w
        w *= decay
    return total / weights if weights else 0.0


def weighted_variance(series: Sequence[float], span: int) -> float:
    """Exponentially weighted variance (unbiased for the effective number of days); 0.0 below two days."""
    if len(series) < 2:
        return 0.0
    decay, mean = 1 - 2 / (span + 1), weighted_mean(series, span)
    v1 = v2 = total = 0.0
    w = 1.0
    for x in reversed(series):
        total += w * (x - mean) ** 2
        v1 += w
        v2 += w * w
        w *= decay
    return max(0.0, total / (v1 - v2 / v1))


def forecast(series: Sequence[float]) -> Forecast:
    """The forecast of a zero-filled daily series, oldest first (see the module docstring)."""
    fast, slow = (weighted_mean(series, span) for span in SPANS)
    recent = series[-SPANS[0]:]
    trust = sum(1 for x in recent if x) / SPANS[0]
    mean = trust * fast + (1 - trust) * slow
    return Forecast(mean=mean, variance=weighted_variance(series, SPANS[1]), fast=fast, slow=slow, days=len(series))
