"""Stock-out risk of one SKU at one warehouse: how long its stock lasts and how likely it runs out
before a replenishment ordered now arrives.

    available     = on hand - shipped since the report - in doubt - reserved - safety buffer   (>= 0)
    days of cover = available / mean daily demand        (infinite without demand)
    stock-out day = today + days of cover                (none without demand)
    probability   = P(demand over lead_time_days > available)   (distribution.py: NB or Poisson)
    at risk       = probability > risk_threshold
    reorder now   = days of cover < lead_time_days + safety_days

The safety buffer (`[stock] safety_buffer`) is what listings never show: when a warehouse is down to it,
the platforms show 0 and buyers stop buying, which is a stock-out for them. It is taken off at each
warehouse, which errs towards risk when several warehouses pool stock for one shop.
`safety_days` does not enter the probability: it is the cover to keep beyond the lead time, so
"reorder now" says a replenishment should be ordered today, before the probability is high.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, timedelta

import msgspec

from config.schema import StockConfig
from pipeline.decisions.distribution import over
from pipeline.decisions.forecast import Forecast
from pipeline.stock import available_of

NO_DEMAND = Forecast(mean=0.0, variance=0.0, fast=0.0, slow=0.0, days=0)


class SkuRisk(msgspec.Struct, frozen=True, kw_only=True):
    seller: str
    seller_sku: str
    warehouse: str
    on_hand: int
    reserved: int
    buffer: int
    available: int
    mean_daily: float
    variance_daily: float
    days_of_cover: float  # math.inf without demand
    stockout_date: date | None
    lead_time_days: float
    safety_days: float
    threshold: float
    probability: float
    distribution: str  # "poisson", "negative binomial" or "none"
    at_risk: bool
    reorder_now: bool

    def explain(self) -> str:
        cover = "no demand" if math.isinf(self.days_of_cover) else f"{self.days_of_cover:.1f} days of cover"
        return (f"{self.available} available, {self.mean_daily:.2f}/day: {cover}; P(out within "
                f"{self.lead_time_days:g} days) {self.probability:.0%} ({self.distribution}), threshold "
                f"{self.threshold:.0%}")


def days_of_cover(available: int, mean_daily: float) -> float:
    if mean_daily <= 0:
        return math.inf
    return max(0, available) / mean_daily


def stockout_probability(available: int, fc: Forecast, days: float) -> float:
    """P(demand over `days` days exceeds `available`)."""
    return over(fc.mean, fc.variance, days).exceeds(max(0, available))


def assess(seller: str, sku: str, warehouse: str, totals: Mapping[str, int], fc: Forecast, stock: StockConfig,
           today: date) -> SkuRisk:
    """The risk row of `sku` at `warehouse`: `totals` is its StockLedger.totals entry (empty: none held)."""
    lead, safety, threshold = stock.risk_terms(warehouse)
    on_hand, reserved = int(totals.get("on_hand", 0)), int(totals.get("reserved", 0))
    free = available_of(on_hand, int(totals.get("shipped", 0)), int(totals.get("in_doubt", 0)), reserved)
    available = max(0, free - stock.safety_buffer)
    cover = days_of_cover(available, fc.mean)
    probability = stockout_probability(available, fc, lead)
    return SkuRisk(seller=seller, seller_sku=sku, warehouse=warehouse, on_hand=on_hand, reserved=reserved,
                   buffer=stock.safety_buffer, available=available, mean_daily=fc.mean, variance_daily=fc.variance,
                   days_of_cover=cover, stockout_date=None if math.isinf(cover) else today + timedelta(days=cover),
                   lead_time_days=lead, safety_days=safety, threshold=threshold, probability=probability,
                   distribution=over(fc.mean, fc.variance, lead).kind, at_risk=probability > threshold,
                   reorder_now=cover < lead + safety)


def ranked(rows: list[SkuRisk]) -> list[SkuRisk]:
    """Most at risk first: probability, then fewest days of cover, then SKU and warehouse."""
    return sorted(rows, key=lambda r: (-r.probability, r.days_of_cover, r.seller_sku, r.warehouse))
