"""Prometheus metrics, read from Redis at each scrape: `orderhub metrics serve`.

Workers are many processes (Celery prefork) that come and go; the counts they produce already
live in Redis (orders, holds, timeline events, API calls and throttles, task durations, refused
stock pushes), so one small exporter reads them there instead of each process keeping counters of
its own.
"""

from __future__ import annotations

from collections.abc import Iterator

import redis
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, SummaryMetricFamily
from prometheus_client.registry import Collector

from connectors.ratelimit import RateLimiter
from pipeline import keys
from pipeline.model import utc_now
from pipeline.stock_refusals import refused_counts
from pipeline.store import OrderStore

QUEUES = ("ingest", "route", "dispatch", "tracking", "stock")


class RedisCollector(Collector):
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.store = OrderStore(client, prefix)
        self.limiter = RateLimiter(client, prefix)
        self.client, self.prefix = client, prefix

    def collect(self) -> Iterator[object]:
        orders = GaugeMetricFamily("orderhub_orders", "Orders stored, by platform status", labels=["seller", "platform", "status"])
        holds = GaugeMetricFamily("orderhub_orders_held", "Orders held now, by reason", labels=["seller", "reason"])
        events = CounterMetricFamily("orderhub_order_events", "Order events (ingested, routed, submitted, shipped, "
                                     "tracking pushed, held by reason)", labels=["seller", "event"])
        lag = GaugeMetricFamily("orderhub_sync_lag_seconds", "Seconds since the orders a shop was read up to",
                                labels=["seller", "shop"])
        now = utc_now()
        for seller in self.store.sellers():
            for (platform, status), n in self.store.status_counts(seller).items():
                orders.add_metric([seller, platform, status], n)
            for reason, held in self.store.holds(seller).items():
                holds.add_metric([seller, reason.value], len(held))
            for event, n in self.store.event_counts(seller).items():
                events.add_metric([seller, event], n)
            for key in self.client.scan_iter(match=keys.cursor_pattern(self.prefix, seller, "orders")):
                shop = keys.cursor_owner(self.prefix, seller, "orders", key)
                cursor = self.store.cursor(seller, shop)
                if cursor:
                    lag.add_metric([seller, shop], (now - cursor).total_seconds())
        yield from (orders, holds, events, lag)

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
