"""A ship-to change first seen after the order shipped: held for ops in whichever tier the order is in.

In Redis (pipeline/address_changes.py) a shipped outbound is not asked to change anything, but the order
is held ADDRESS_CHANGED_AFTER_SUBMIT; in the archive (pipeline/archive/late_address.py) the archived row
takes the same hold, which `holds list`, `status` and the metrics show beside Redis's holds.
"""

from __future__ import annotations

from datetime import timedelta

import msgspec
from click.testing import CliRunner
from prometheus_client import CollectorRegistry, generate_latest

from config.schema import SellerConfig
from orderhub.cli import main
from orderhub.metrics import ArchiveFigures, RedisCollector
from pipeline import keys, submissions
from pipeline.archive import get_order
from pipeline.archive.move import move_closed
from pipeline.archive.reader import held_orders, hold_counts
from pipeline.archive.relisted import ArchiveLink
from pipeline.dispatch import submit_order
from pipeline.fulfilment import mark_tracking_pushed
from pipeline.model import EventKind, HoldReason, OrderStatus, Shipment, ShipmentLine, utc_now
from pipeline.ports import ShopRef
from pipeline.stages import OutboundState, Stage
from pipeline.stock import StockLedger
from pipeline.store import UpsertResult
from pipeline.sync import sync_orders
from tests.archive.helpers import MOVED, BundleConnector, PageClient
from tests.factories import make_order

SELLER = "acme"
SHOP = ShopRef(SELLER, "amazon", "shop-1")
def _sync(store, page, link):
    return sync_orders(store, BundleConnector(), PageClient(page), SHOP, on_slice=lambda keys_: None, archive=link,
                       reuse_rows=False)


def _ship(store, n: int) -> str:
    """Store order n (READY), submit it to `east` with its ship-to, record the shipment and the tracking push."""
    order = make_order(n, status=OrderStatus.SHIPPED)
    _sync(store, [{"n": n, "status": "SHIPPED", "v": 0}], None)
    sub = submissions.Submission("east", f"OH-{n}", f"R{n}", OutboundState.SHIPPED, ship_to=order.ship_to)
    submissions.record(store, SELLER, order.key, sub, submitted=f"east ref OH-{n} (R{n})", last=True)
    shipment = Shipment(order_key=order.key, warehouse="east", carrier="UPS", tracking_number=f"1Z{n}",
                        shipped_at=order.placed_at + timedelta(hours=5), lines=(ShipmentLine("MUG-01", 1),))
    store.redis.hset(keys.shipments(store.prefix, SELLER, order.key), "east", msgspec.json.encode(shipment))
    store.set_stage(SELLER, order.key, Stage.SHIPPED)
    mark_tracking_pushed(store, SELLER, order.key, "east")
    return order.key


def _soon():
    return utc_now() + timedelta(seconds=1)


def test_an_archived_order_listed_again_with_a_new_ship_to_is_held_in_the_archive_and_nothing_is_sent(engine, store):
    link = ArchiveLink(engine, tombstone_days=90)
    key, same, withheld = _ship(store, 41), _ship(store, 42), _ship(store, 43)
    assert move_closed(store, engine, SELLER, _soon()).archived == 3

    report = _sync(store, [{"n": 41, "status": "SHIPPED", "v": 4, "to": "moved"},
                           {"n": 42, "status": "SHIPPED", "v": 4},  # a late update, same door
                           {"n": 43, "status": "SHIPPED", "v": 4, "to": "withheld"}], link)
    assert report.results == {UpsertResult.RELISTED.value: 3}
    assert store.get(SELLER, key) is None  # still archived only: nothing routed or submitted again

    back = get_order(engine, SELLER, key)
    assert back.hold is not None and back.hold.reason is HoldReason.ADDRESS_CHANGED_AFTER_SUBMIT
    assert "east outbound OH-41 (SHIPPED) shipped to Austin" in back.hold.detail
    assert "now goes to Denver CO 80202 US" in back.hold.detail
    assert "Jane" not in back.hold.detail and "Road" not in back.hold.detail  # the place, never the person
    assert back.ship_to == MOVED
    changed = back.timeline[-1]
    assert changed.kind is EventKind.ADDRESS_CHANGED and changed.addresses["now"] == MOVED
    assert back.timeline[-2].kind is EventKind.UPDATED
    for other in (same, withheld):
        assert get_order(engine, SELLER, other).hold is None

    assert [h.key for h in held_orders(engine, SELLER)] == [key]
    assert held_orders(engine, SELLER, HoldReason.UNKNOWN_SKU) == []
    assert hold_counts(engine) == {(SELLER, HoldReason.ADDRESS_CHANGED_AFTER_SUBMIT): 1}
    # Listed again the same: recorded once, held once.
    events = len(back.timeline)
    _sync(store, [{"n": 41, "status": "SHIPPED", "v": 4, "to": "moved"}], link)
    assert len(get_order(engine, SELLER, key).timeline) == events


def test_holds_list_status_and_metrics_count_archived_holds_beside_redis_ones(engine, store, redis_url, monkeypatch):
    key = _ship(store, 51)
    move_closed(store, engine, SELLER, _soon())
    _sync(store, [{"n": 51, "status": "SHIPPED", "v": 4, "to": "moved"}], ArchiveLink(engine))
    hot = make_order(52)
    _sync(store, [{"n": 52, "status": "READY", "v": 0}], None)
    store.hold(SELLER, hot.key, HoldReason.ADDRESS_CHANGED_AFTER_SUBMIT, "in Redis")
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ORDERHUB_PREFIX", store.prefix)
    monkeypatch.setenv("ORDERHUB_DATABASE_URL", url)

    listed = CliRunner().invoke(main, ["holds", "list", "--seller", SELLER])
    assert listed.exit_code == 0, listed.output
    assert f"{key}  (archived) buyer changed the ship-to after the order was archived" in listed.output
    assert f"{hot.key}  in Redis" in listed.output and "2 held order(s)" in listed.output

    status = CliRunner().invoke(main, ["status"])
    assert status.exit_code == 0, status.output
    assert "ADDRESS_CHANGED_AFTER_SUBMIT        2  (1 archived)" in status.output

    registry = CollectorRegistry()
    registry.register(RedisCollector(store.redis, store.prefix, ArchiveFigures(url)))
    text = generate_latest(registry).decode()
    assert 'orderhub_orders_held{reason="ADDRESS_CHANGED_AFTER_SUBMIT",seller="acme"} 2.0' in text
    assert 'orderhub_orders_archived{seller="acme"} 1.0' in text


def test_a_ship_to_change_seen_after_the_warehouse_shipped_holds_the_order_without_asking_the_warehouse(store):
    key = _ship(store, 61)
    _sync(store, [{"n": 61, "status": "SHIPPED", "v": 4, "to": "moved"}], None)

    class Warehouse:
        def update_address(self, reference, ship_to):  # pragma: no cover - must not be called
            raise AssertionError("a shipped parcel cannot be re-addressed")

    seller = SellerConfig(seller=SELLER)
    submit_order(store, StockLedger(store.redis, store.prefix), seller, key, {"east": Warehouse()})
    held = store.get(SELLER, key)
    assert held.hold is not None and held.hold.reason is HoldReason.ADDRESS_CHANGED_AFTER_SUBMIT
    assert "the parcel had already shipped" in held.hold.detail
    submit_order(store, StockLedger(store.redis, store.prefix), seller, key, {"east": Warehouse()})
    assert store.event_counts(SELLER)["held:ADDRESS_CHANGED_AFTER_SUBMIT"] == 1  # said once


def test_ops_resolve_a_parcel_hold_in_either_tier_and_replayable_holds_are_refused(engine, store, redis_url,
                                                                                 monkeypatch):
    archived_key = _ship(store, 71)
    move_closed(store, engine, SELLER, _soon())
    _sync(store, [{"n": 71, "status": "SHIPPED", "v": 4, "to": "moved"}], ArchiveLink(engine))
    hot_key = _ship(store, 72)
    _sync(store, [{"n": 72, "status": "SHIPPED", "v": 4, "to": "moved"}], None)
    submit_order(store, StockLedger(store.redis, store.prefix), SellerConfig(seller=SELLER), hot_key, {})
    unknown = make_order(73)
    _sync(store, [{"n": 73, "status": "READY", "v": 0}], None)
    store.hold(SELLER, unknown.key, HoldReason.UNKNOWN_SKU, "SKU-9 not mapped")
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ORDERHUB_PREFIX", store.prefix)
    monkeypatch.setenv("ORDERHUB_DATABASE_URL", engine.url.render_as_string(hide_password=False))

    result = CliRunner().invoke(main, ["holds", "resolve", archived_key, hot_key, "--note", "intercepted, UPS"])
    assert result.exit_code == 0, result.output
    assert f"{SELLER}  {archived_key}  ADDRESS_CHANGED_AFTER_SUBMIT resolved (archived order)" in result.output
    assert f"{SELLER}  {hot_key}  ADDRESS_CHANGED_AFTER_SUBMIT resolved" in result.output
    back = get_order(engine, SELLER, archived_key)
    assert back.hold is None and back.timeline[-1].kind is EventKind.RELEASED
    assert back.timeline[-1].detail == "ADDRESS_CHANGED_AFTER_SUBMIT resolved by ops: intercepted, UPS"
    assert store.get(SELLER, hot_key).hold is None
    assert held_orders(engine, SELLER) == []

    refused = CliRunner().invoke(main, ["holds", "resolve", unknown.key, "nope:shop:1", "--note", "x"])
    assert refused.exit_code == 1
    assert "UNKNOWN_SKU is not settled outside Orderhub" in refused.output
    assert "nope:shop:1: no held order by that key" in refused.output
    assert store.get(SELLER, unknown.key).hold.reason is HoldReason.UNKNOWN_SKU
