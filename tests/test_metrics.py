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


def _risk_seller():
    from config.schema import SellerConfig, StockConfig, StockRiskConfig, WarehouseConfig

    warehouses = [WarehouseConfig(id=wid, kind="shipbob", credentials={}, countries=["US"], priority=n)
                  for n, wid in enumerate(("east", "west"))]
    return SellerConfig(seller="acme", warehouses=warehouses,
                        stock=StockConfig(risk_threshold=0.2, warehouses={"west": StockRiskConfig(risk_threshold=0.5)}))


def _risk_store(store):
    """east: MUG sold 3 a day for four weeks, 10 left; CUP never sold. west: MUG unsold."""
    from datetime import timedelta

    from pipeline.model import StockLevel, utc_now
    from pipeline.stages import Stage
    from pipeline.stock import StockLedger
    from tests.archive.helpers import order

    now = utc_now()
    ledger = StockLedger(store.redis, store.prefix)
    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG", on_hand=10, as_of=now),
                                           StockLevel(warehouse="east", seller_sku="CUP", on_hand=4, as_of=now)], now)
    ledger.apply_snapshot("acme", "west", [StockLevel(warehouse="west", seller_sku="MUG", on_hand=5, as_of=now)], now)
    for day in range(1, 29):
        sold = order(500 + day, placed=now - timedelta(days=day), lines=(("MUG", 3),))
        store.upsert("acme", [received(sold)])
        store.set_stage("acme", sold.key, Stage.SHIPPED)


def test_stock_risk_gauges_appear_and_are_computed_every_few_minutes_not_every_scrape(store):
    from orderhub.metrics import StockRiskFigures

    _risk_store(store)
    asked = []

    def configs():
        asked.append(1)
        return [_risk_seller()]

    risk = StockRiskFigures(configs, archive_url=None, every=300)
    registry = CollectorRegistry()
    registry.register(RedisCollector(store.redis, store.prefix, risk=risk))
    text = generate_latest(registry).decode()
    assert "# TYPE orderhub_stock_days_of_cover gauge" in text
    def value(sample: str) -> float:
        return float(text.split(sample + " ")[1].split()[0])

    assert 3.2 < value('orderhub_stock_days_of_cover{seller="acme",sku="MUG",warehouse="east"}') < 3.5  # 10 at 3/day
    assert 'orderhub_stock_days_of_cover{seller="acme",sku="CUP",warehouse="east"} +Inf' in text
    assert value('orderhub_stock_out_probability{seller="acme",sku="MUG",warehouse="east"}') > 0.999
    assert 'orderhub_stock_out_probability{seller="acme",sku="CUP",warehouse="east"} 0.0' in text
    assert 'orderhub_stock_risk_threshold{seller="acme",sku="MUG",warehouse="west"} 0.5' in text
    assert 'orderhub_stock_at_risk{seller="acme",sku="MUG",warehouse="east"} 1.0' in text
    assert 'orderhub_stock_at_risk{seller="acme",sku="MUG",warehouse="west"} 0.0' in text
    generate_latest(registry)
    generate_latest(registry)
    assert len(asked) == 1  # three scrapes, one computation
    risk._at -= 301  # five minutes later
    generate_latest(registry)
    assert len(asked) == 2


def test_the_alert_rule_file_parses_and_alerts_on_exported_gauges():
    import re
    from pathlib import Path

    import yaml

    from orderhub.metrics import risk_gauges

    rules = yaml.safe_load((Path(__file__).parents[1] / "config" / "prometheus" / "alerts.yml").read_text())
    assert set(rules) == {"groups"}
    exported = {family.name for family in risk_gauges([])}
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert {group["name"] for group in rules["groups"]} == {"orderhub-stock"}
    assert {rule["alert"] for rule in alerts} == {"OrderhubStockOutRisk", "OrderhubStockCoverUnderAWeek"}
    for rule in alerts:
        assert set(rule) <= {"alert", "expr", "for", "labels", "annotations", "keep_firing_for"}
        assert re.fullmatch(r"\d+[smh]", rule["for"]) and rule["labels"]["severity"] in {"warning", "critical"}
        named = set(re.findall(r"orderhub_[a-z_]+", rule["expr"]))
        assert named and named <= exported, named - exported
        assert rule["expr"].count("(") == rule["expr"].count(")")
        assert rule["annotations"]["summary"].count("{{") == rule["annotations"]["summary"].count("}}")
    threshold_rule = next(r for r in alerts if r["alert"] == "OrderhubStockOutRisk")
    assert "orderhub_stock_out_probability >" in threshold_rule["expr"]
    assert "orderhub_stock_risk_threshold" in threshold_rule["expr"]
