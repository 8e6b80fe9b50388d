from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from connectors.ratelimit import RateLimiter
from orderhub.metrics import RedisCollector
from pipeline.model import EventKind, HoldReason
from pipeline.ports import Limit
from tests.factories import make_order, received


def test_metrics_expose_orders_holds_events_calls_and_throttles(store):
    store.upsert("acme", [received(make_order(n)) for n in range(3)])
    store.hold("acme", make_order(1).key, HoldReason.UNKNOWN_SKU, "SKU-1 not mapped")
    store.append_event("acme", make_order(0).key, EventKind.SUBMITTED, "east")
    limiter = RateLimiter(store.redis, store.prefix)
    limiter.acquire("amazon", "A1", "getOrders", Limit(100, 100))
    limiter.acquire("amazon", "A1", "getOrders", Limit(100, 100))
    limiter.block("amazon", "A1", "getOrderItems", 0.01)
    registry = CollectorRegistry()
    registry.register(RedisCollector(store.redis, store.prefix))
    text = generate_latest(registry).decode()
    assert 'orderhub_orders{platform="amazon",seller="acme",status="READY"} 3.0' in text
    assert 'orderhub_orders_held{reason="UNKNOWN_SKU",seller="acme"} 1.0' in text
    assert 'orderhub_order_events_total{event="received",seller="acme"} 3.0' in text
    assert 'orderhub_order_events_total{event="submitted",seller="acme"} 1.0' in text
    assert 'orderhub_order_events_total{event="held:UNKNOWN_SKU",seller="acme"} 1.0' in text
    assert 'orderhub_api_calls_total{operation="getOrders",platform="amazon"} 2.0' in text
    assert 'orderhub_api_throttled_total{operation="getOrderItems",platform="amazon"} 1.0' in text
    assert 'orderhub_queue_depth{queue="ingest"}' in text
