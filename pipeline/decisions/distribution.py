"""The distribution of demand over a horizon, and its CDF, without scipy.

Demand over `days` days has mean M = mean * days and variance V = variance * days (days independent).
Counts of units are over-dispersed on most SKUs (orders come in bursts: several units at once, promotions),
so when V > M the demand is negative binomial with that mean and variance,

    p = M / V,   r = M^2 / (V - M),   P(k) = C(k + r - 1, k) p^r (1 - p)^k,

and Poisson(M) when V <= M (the least spread a count can have without being rigged). Probabilities are
summed in log space with math.lgamma, from the nearer end: below the mode the CDF from 0 up, above it
the upper tail until its terms no longer matter, so large stocks cost no more than small ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import msgspec

TINY = 1e-18
"""A tail term below this (absolute) ends the tail sum: far below any threshold anyone sets."""
MAX_TERMS = 2_000_000


class HorizonDemand(msgspec.Struct, frozen=True):
    """Demand over a horizon: its mean, variance and the distribution they give."""

    mean: float
    variance: float

    @property
    def kind(self) -> str:
        if self.mean <= 0:
            return "none"
        return "negative binomial" if self.variance > self.mean else "poisson"

    def cdf(self, k: int) -> float:
        """P(demand <= k)."""
        return 1.0 - self.exceeds(k)

    def exceeds(self, k: int) -> float:
        """P(demand > k): the probability that `k` units do not last the horizon."""
        if k < 0:
            return 1.0
        if self.mean <= 0:
            return 0.0
        logpmf, mode = self._logpmf()
        if k < mode:
            below = sum(math.exp(logpmf(i)) for i in range(k + 1))
            return _clamp(1.0 - below)
        tail, i = 0.0, k + 1
        while i - k <= MAX_TERMS:
            term = math.exp(logpmf(i))
            tail += term
            if term < TINY:
                break
            i += 1
        return _clamp(tail)

    def _logpmf(self) -> tuple[Callable[[int], float], int]:
        m, v = self.mean, self.variance
        if v <= m:
            log_m = math.log(m)
            return (lambda k: k * log_m - m - math.lgamma(k + 1)), math.floor(m)
        p = m / v
        r = m * m / (v - m)
        log_p, log_q, lg_r = math.log(p), math.log1p(-p), math.lgamma(r)

        def logpmf(k: int) -> float:
            return math.lgamma(k + r) - lg_r - math.lgamma(k + 1) + r * log_p + k * log_q

        return logpmf, max(0, math.floor((r - 1) * (1 - p) / p))


def over(mean_daily: float, variance_daily: float, days: float) -> HorizonDemand:
    """Demand over `days` days of a SKU with this daily mean and variance."""
    days = max(0.0, days)
    return HorizonDemand(mean_daily * days, variance_daily * days)


def _clamp(x: float) -> float:
    return min(1.0, max(0.0, x))
