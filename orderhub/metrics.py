"""Prometheus metrics, read from Redis at each scrape (and from the archive every few minutes):
`orderhub metrics serve`.

Workers are many processes (Celery prefork) that come and go; the counts they produce already
live in Redis (orders, holds, timeline events, API calls and throttles, task durations, refused
stock pushes), so one small exporter reads them there instead of each process keeping counters of
its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import redis
import structlog
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.registry import Collector

from connectors.ratelimit import RateLimiter
from pipeline import keys
from pipeline.model import HoldReason, utc_now
from pipeline.stock_refusals import refused_counts
from pipeline.store import OrderStore

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from config.schema import SellerConfig
    from pipeline.decisions.risk import SkuRisk

log = structlog.get_logger()

QUEUES = ("ingest", "route", "dispatch", "tracking", "stock")


class _Periodic:
    """Figures worth computing at most once per `every` seconds, some from the archive at `url`: opened on
    first use; none yet (never migrated, SQLite file never made) or unreadable (logged) gives no engine,
    and the next refresh tries again."""

    def __init__(self, url: str | None, every: float) -> None:
        self.url, self.every = url, every
        self._engine: Engine | None = None
        self._at = -every

    def due(self) -> bool:
        if time.monotonic() - self._at < self.every:
            return False
        self._at = time.monotonic()
        return True

    def engine(self) -> Engine | None:
        from sqlalchemy.exc import SQLAlchemyError

        from pipeline.archive.engine import open_existing

        if self._engine is None and self.url is not None:
            try:
                self._engine = open_existing(self.url)
            except (SQLAlchemyError, OSError) as exc:
                log.warning("metrics.archive_unreadable", error=type(exc).__name__)
        return self._engine


class ArchiveFigures(_Periodic):
    """What the archive adds to a scrape (orders archived, archived orders held, per seller), every few
    minutes: a COUNT over millions of rows is no work for every 15-second scrape, and these figures move
    by the hourly move. A failing archive is logged and its figures left out until it answers again."""

    def __init__(self, url: str, every: float = 300.0) -> None:
        super().__init__(url, every)
        self.archived: dict[str, int] = {}
        self.held: dict[tuple[str, HoldReason], int] = {}

    def refresh(self, sellers: Iterable[str]) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        from pipeline.archive.reader import hold_counts, order_counts

        if not self.due() or (engine := self.engine()) is None:
            return
        try:
            self.held = hold_counts(engine)
            counts = order_counts(engine)
            self.archived = {seller: counts.get(seller, 0) for seller in sellers}
        except (SQLAlchemyError, OSError) as exc:
            self.archived, self.held = {}, {}
            log.warning("metrics.archive_unreadable", error=type(exc).__name__)


class StockRiskFigures(_Periodic):
    """Stock-out risk per seller, SKU and warehouse (pipeline/decisions, docs/decisions.md), every few
    minutes: it reads eight weeks of orders from both tiers, no work for every scrape, and demand over
    weeks does not move by the minute. `configs` gives the sellers' configs (their warehouses and risk
    terms); `archive_url` adds the archive's demand (none yet, or unreadable: Redis only, logged). A
    seller whose assessment fails is logged and left out until it succeeds."""

    def __init__(self, configs: Callable[[], Iterable[SellerConfig]], archive_url: str | None = None,
                 every: float = 300.0) -> None:
        super().__init__(archive_url, every)
        self.configs = configs
        self.rows: list[SkuRisk] = []

    def refresh(self, store: OrderStore) -> None:
        from functools import partial

        from sqlalchemy.exc import SQLAlchemyError

        from pipeline.archive.reader import demand_by_day
        from pipeline.decisions.assess import assess_seller

        if not self.due():
            return
        engine = self.engine()
        today, rows = utc_now().date(), []
        for cfg in self.configs():
            archive = partial(demand_by_day, engine) if engine is not None else None
            try:
                rows += assess_seller(cfg, store, archive, today).rows
            except (SQLAlchemyError, OSError) as exc:  # the archive failed: Redis alone until it answers
                log.warning("metrics.stock_risk_archive_unreadable", seller=cfg.seller, error=type(exc).__name__)
                engine = None  # not asked again for the other sellers (each could wait out a connect timeout)
                rows += assess_seller(cfg, store, None, today).rows
        self.rows = rows


class RedisCollector(Collector):
    """Each scrape reads Redis; with `archive`, the archive's figures too (holds count both tiers); with
    `risk`, the stock-out risk gauges (refreshed every few minutes)."""

    def __init__(self, client: redis.Redis, prefix: str, archive: ArchiveFigures | None = None,
                 risk: StockRiskFigures | None = None) -> None:
        self.store = OrderStore(client, prefix)
        self.limiter = RateLimiter(client, prefix)
        self.client, self.prefix, self.archive, self.risk = client, prefix, archive, risk

    def collect(self) -> Iterator[object]:
        orders = GaugeMetricFamily("orderhub_orders", "Orders stored, by platform status", labels=["seller", "platform", "status"])
        holds = GaugeMetricFamily("orderhub_orders_held", "Orders held now, by reason", labels=["seller", "reason"])
        events = CounterMetricFamily("orderhub_order_events", "Order events (ingested, routed, submitted, shipped, "
                                     "tracking pushed, held by reason)", labels=["seller", "event"])
        lag = GaugeMetricFamily("orderhub_sync_lag_seconds", "Seconds since the orders a shop was read up to",
                                labels=["seller", "shop"])
        archived = GaugeMetricFamily("orderhub_orders_archived", "Orders in the archive (refreshed every few "
                                     "minutes)", labels=["seller"])
        now = utc_now()
        sellers = self.store.sellers()
        if self.archive is not None:
            self.archive.refresh(sellers)
        archived_held = self.archive.held if self.archive is not None else {}
        for seller in sellers:
            for (platform, status), n in self.store.status_counts(seller).items():
                orders.add_metric([seller, platform, status], n)
            held_now = {reason: len(held) for reason, held in self.store.holds(seller).items()}
            for (owner, reason), n in archived_held.items():
                if owner == seller:
                    held_now[reason] = held_now.get(reason, 0) + n
            for reason, n in sorted(held_now.items()):
                holds.add_metric([seller, reason.value], n)
            if self.archive is not None and seller in self.archive.archived:
                archived.add_metric([seller], self.archive.archived[seller])
            for event, n in self.store.event_counts(seller).items():
                events.add_metric([seller, event], n)
            for key in self.client.scan_iter(match=keys.cursor_pattern(self.prefix, seller, "orders")):
                shop = keys.cursor_owner(self.prefix, seller, "orders", key)
                cursor = self.store.cursor(seller, shop)
                if cursor:
                    lag.add_metric([seller, shop], (now - cursor).total_seconds())
        yield from (orders, archived, holds, events, lag)

        calls = CounterMetricFamily("orderhub_api_calls", "Platform and warehouse API calls", labels=["platform", "operation"])
        for field, n in self.limiter.call_counts().items():
            calls.add_metric(keys.parse_api_call_field(field), n)
        throttles = CounterMetricFamily("orderhub_api_throttled", "Throttled API responses", labels=["platform", "operation"])
        for field, n in self.limiter.throttle_counts().items():
            throttles.add_metric(keys.parse_api_call_field(field), n)
        yield from (calls, throttles)

        refused = GaugeMetricFamily("orderhub_stock_refused", "Listings whose last stock push the platform refused, "
                                    "by the platform's reason", labels=["platform", "reason"])
        for (platform, reason), n in sorted(refused_counts(self.client, self.prefix).items()):
            refused.add_metric([platform, reason], n)
        yield refused

        durations = SummaryMetricFamily("orderhub_task_seconds", "Celery task durations", labels=["task"])
        raw = {k.decode(): float(v) for k, v in self.client.hgetall(keys.task_seconds(self.prefix)).items()}
        for name in {keys.task_of_field(k) for k in raw}:
            sum_field, count_field = keys.task_seconds_fields(name)
            durations.add_metric([name], count_value=raw.get(count_field, 0), sum_value=raw.get(sum_field, 0))
        yield durations

        depth = GaugeMetricFamily("orderhub_queue_depth", "Messages waiting per Celery queue", labels=["queue"])
        for queue in QUEUES:
            depth.add_metric([queue], self.client.llen(queue))
        yield depth

        if self.risk is not None:
            self.risk.refresh(self.store)
            yield from risk_gauges(self.risk.rows)


def risk_gauges(rows: Iterable[SkuRisk]) -> tuple[GaugeMetricFamily, ...]:
    """Days of cover (+Inf for a SKU without demand: it never runs out, and `< x` never fires on it),
    stock-out probability within the lead time, the warehouse's threshold, and at-risk as 0/1."""
    labels = ["seller", "sku", "warehouse"]
    cover = GaugeMetricFamily("orderhub_stock_days_of_cover", "Days the available stock lasts at the forecast "
                              "demand (+Inf without demand)", labels=labels)
    probability = GaugeMetricFamily("orderhub_stock_out_probability", "Probability of running out before a "
                                    "replenishment ordered now arrives (lead_time_days)", labels=labels)
    threshold = GaugeMetricFamily("orderhub_stock_risk_threshold", "The risk_threshold configured for the "
                                  "warehouse", labels=labels)
    at_risk = GaugeMetricFamily("orderhub_stock_at_risk", "1 when the stock-out probability is above the "
                                "threshold", labels=labels)
    for r in rows:
        key = [r.seller, r.seller_sku, r.warehouse]
        cover.add_metric(key, r.days_of_cover)
        probability.add_metric(key, r.probability)
        threshold.add_metric(key, r.threshold)
        at_risk.add_metric(key, 1 if r.at_risk else 0)
    return cover, probability, threshold, at_risk
