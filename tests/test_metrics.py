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
    text = _scrape(store)
    assert 'orderhub_orders{platform="amazon",seller="acme",status="READY"} 3.0' in text
    assert 'orderhub_orders_held{reason="UNKNOWN_SKU",seller="acme"} 1.0' in text
    assert 'orderhub_order_events_total{event="received",seller="acme"} 3.0' in text
    assert 'orderhub_order_events_total{event="submitted",seller="acme"} 1.0' in text
    assert 'orderhub_order_events_total{event="held:UNKNOWN_SKU",seller="acme"} 1.0' in text
    assert 'orderhub_api_calls_total{operation="getOrders",platform="amazon"} 2.0' in text
    assert 'orderhub_api_throttled_total{operation="getOrderItems",platform="amazon"} 1.0' in text
    assert 'orderhub_queue_depth{queue="ingest"}' in text


def test_stock_refused_counts_listings_refused_now_by_platform_and_reason(store):
    from datetime import UTC, datetime

    from pipeline.ports import PushOutcome, StockPush
    from pipeline.stock_refusals import clear_refusals, record_refusals

    now = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)

    def refuse(seller, shop, platform, skus, code):
        refused = {sku: (StockPush(sku, 3), PushOutcome(sku, False, "refused", code)) for sku in skus}
        record_refusals(store.redis, store.prefix, seller, shop, platform, refused, {}, now)

    refuse("acme", "acme-amazon-us", "amazon", ["MUG", "LAMP"], "4000001")
    refuse("globex", "globex-amazon-de", "amazon", ["RUG"], "4000001")
    refuse("acme", "acme-tiktok-us", "tiktok", ["1729"], "12052557")
    refuse("acme", "acme-temu-us", "temu", ["5010"], "")
    clear_refusals(store.redis, store.prefix, "acme", "acme-temu-us", ["5010"])  # accepted since
    text = _scrape(store)
    assert "# TYPE orderhub_stock_refused gauge" in text
    assert 'orderhub_stock_refused{platform="amazon",reason="4000001"} 3.0' in text
    assert 'orderhub_stock_refused{platform="tiktok",reason="12052557"} 1.0' in text
    assert 'platform="temu"' not in text


def _scrape(store) -> str:
    """What Prometheus reads from the exporter at one scrape."""
    registry = CollectorRegistry()
    registry.register(RedisCollector(store.redis, store.prefix))
    return generate_latest(registry).decode()
