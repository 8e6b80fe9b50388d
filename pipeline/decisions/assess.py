"""One seller's stock-out risk from what Orderhub holds now: demand of the last HISTORY_DAYS from both
tiers, its forecast, and the ledger's stock, per SKU and warehouse. Shared by `orderhub stock risk`,
`orderhub stock rebalance` and the metrics exporter, so that all three say the same."""

from __future__ import annotations

from datetime import date

import msgspec

from config.schema import SellerConfig
from pipeline.decisions.demand import ArchiveQuery, daily_series, day_start, seller_demand, window
from pipeline.decisions.forecast import Forecast, forecast
from pipeline.decisions.hot_orders import hot_orders
from pipeline.decisions.risk import NO_DEMAND, SkuRisk, assess, ranked
from pipeline.stock import StockLedger
from pipeline.store import OrderStore

HISTORY_DAYS = 56
"""Eight weeks: twice the slow span of the forecast, so its weights have all but died out at the start."""


class Assessment(msgspec.Struct, frozen=True, kw_only=True):
    """A seller's risk rows (most at risk first) and the forecasts behind them, per (SKU, warehouse)."""

    rows: list[SkuRisk]
    forecasts: dict[tuple[str, str], Forecast]


def assess_seller(seller: SellerConfig, store: OrderStore, archive: ArchiveQuery | None, today: date) -> Assessment:
    """Every SKU a warehouse of the seller reports or was asked for recently, at each enabled warehouse.
    Demand with no warehouse to serve it (no warehouse for its country) has no row."""
    since, until = window(today, HISTORY_DAYS)
    hot = list(hot_orders(store, seller.seller, since=day_start(since), until=day_start(until)))
    series = daily_series(seller_demand(seller, hot, archive, since, until), since, until)
    ledger = StockLedger(store.redis, store.prefix)
    rows, forecasts = [], {}
    for wh in seller.warehouses:
        if not wh.enabled:
            continue
        totals = ledger.totals(seller.seller, wh.id)
        skus = set(totals) | {sku for (sku, where) in series if where == wh.id}
        for sku in skus:
            fc = forecast(series[(sku, wh.id)]) if (sku, wh.id) in series else NO_DEMAND
            forecasts[(sku, wh.id)] = fc
            rows.append(assess(seller.seller, sku, wh.id, totals.get(sku, {}), fc, seller.stock, today))
    return Assessment(rows=ranked(rows), forecasts=forecasts)
