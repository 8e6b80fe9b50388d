"""SHEIN pushes build the documented requests: the emulator validates and records them.

Tracking is set per goodsId (one infoList entry per unit); stock goes out as absolute saleInventory
in batches of at most 100 SKUs; acknowledging moves "pending processing" to "pending shipment".
"""

from __future__ import annotations

from datetime import timedelta

import orjson

from connectors.ratelimit import RateLimiter
from connectors.registry import PLATFORMS
from pipeline.model import FulfilledBy, OrderStatus
from pipeline.ports import ShopRef, StockPush, TrackedItem, TrackingPush
from pipeline.sync import sync_orders
from sandbox.shein.push import known_sku_codes
from tests.contract.harness import HARNESSES


def _synced(store, redis_client, prefix, emulator):
    shop, secrets = HARNESSES["shein"].shop(emulator)
    connector = PLATFORMS["shein"]
    client = connector.client(shop, secrets, RateLimiter(redis_client, prefix))
    ref = ShopRef("acme", "shein", shop.shop_id)
    sync_orders(store, connector, client, ref, now=emulator.clock.now(), lookback=timedelta(days=3))
    return client, ref


def _ready_multi_unit(store, ref, emulator):
    for o in emulator.ground_truth():
        stored = store.get("acme", f"shein:{ref.shop_id}:{o['id']}")
        order = stored.order if stored else None
        if order and order.status is OrderStatus.READY and order.fulfilled_by is FulfilledBy.SELLER \
                and order.ship_to.pii_complete and any(line.quantity > 1 for line in order.lines):
            return stored
    raise AssertionError("no READY seller-fulfilled multi-unit order in the sandbox")


def test_tracking_push_carries_one_entry_per_goods_id_and_ships_those_units(store, redis_client, prefix):
    with HARNESSES["shein"].emulator(orders=300) as emulator:
        client, ref = _synced(store, redis_client, prefix, emulator)
        order = _ready_multi_unit(store, ref, emulator).order
        units = [TrackedItem(goods_id, 1) for line in order.lines for goods_id in line.line_ids]
        push = TrackingPush(external_id=order.external_id, carrier="UPS", tracking_number="1Z999AA10123456786",
                            shipped_at=emulator.clock.now(), items=tuple(units))
        assert client.push_tracking(push).accepted
        (record,) = emulator.pushed("tracking")
        entries = record["content"]["infoList"]
        assert record["accepted"] and len(entries) == order.units
        assert sorted(str(e["goodsId"]) for e in entries) == sorted(u.line_id for u in units)
        assert {e["expressCode"] for e in entries} == {"1Z999AA10123456786"}
        reread = PLATFORMS["shein"].map_order(client.fetch_order(order.external_id), ref)
        assert reread.status is OrderStatus.SHIPPED
        assert all(line.shipped_quantity == line.quantity for line in reread.lines)
        # A second push for the same units is SHEIN's refusal, reported as an outcome, not raised.
        refused = client.push_tracking(push)
        assert not refused.accepted and "already shipped" in refused.message
        assert emulator.counters.get("expressChannel") == 1  # the carrier list is cached


def test_stock_push_goes_in_batches_of_at_most_100_with_per_sku_outcomes(store, redis_client, prefix):
    with HARNESSES["shein"].emulator(orders=20) as emulator:
        shop, secrets = HARNESSES["shein"].shop(emulator)
        client = PLATFORMS["shein"].client(shop, secrets, RateLimiter(redis_client, prefix))
        known = [StockPush(sku, 5 + i, listing_id=code) for i, (sku, code) in enumerate(known_sku_codes().items())]
        unknown = [StockPush(f"NOPE-{i}", 1, listing_id=f"I-missing-{i}") for i in range(150 - len(known))]
        outcomes = client.push_stock(known + unknown)
        assert emulator.counters.get("changeInventory") == 2  # 150 SKUs: 100 + 50
        assert [o.ref for o in outcomes] == [p.platform_sku for p in known + unknown]
        assert all(o.accepted for o in outcomes[:len(known)])
        assert not any(o.accepted for o in outcomes[len(known):])
        assert "msc-update-stock-001" in outcomes[-1].message
        recorded = emulator.pushed("stock")
        assert len(recorded) == 150 and recorded[0]["content"]["saleInventory"] == 5
        assert recorded[0]["content"]["changeInventoryQuantity"] is None  # absolute levels, never deltas
        (negative,) = client.push_stock([StockPush("OH-BCB-S", -3, listing_id=known_sku_codes()["OH-BCB-S"])])
        assert negative.accepted and emulator.stock[(secrets["open_key_id"], known_sku_codes()["OH-BCB-S"])] == 0
        assert emulator.counters.get("warehouseList") == 1  # looked up once, then cached


def test_acknowledge_moves_the_order_to_pending_shipment(store, redis_client, prefix):
    with HARNESSES["shein"].emulator(orders=200) as emulator:
        client, ref = _synced(store, redis_client, prefix, emulator)
        stored = _ready_multi_unit(store, ref, emulator)
        external_id = stored.order.external_id
        assert orjson.loads(stored.raw)["order"]["orderStatus"] == 1  # the sync's reads changed nothing
        emulator.clock.advance(60)
        assert client.acknowledge(external_id).accepted
        bundle = client.fetch_order(external_id)
        assert bundle["order"]["orderStatus"] == 2 and bundle["address"]["orderNo"] == external_id
        order = PLATFORMS["shein"].map_order(bundle, ref)
        assert order.status is OrderStatus.READY and order.updated_at == emulator.clock.now()
        # The move is a change the next incremental sync sees.
        report = sync_orders(store, PLATFORMS["shein"], client, ref, now=emulator.clock.now())
        assert f"shein:{ref.shop_id}:{external_id}" in report.changed
        assert store.get("acme", f"shein:{ref.shop_id}:{external_id}").order.platform_status == "2"
        cancelled = next(o["id"] for o in emulator.ground_truth() if o["status"] in (6, 9)
                         and o["performance_type"] == 1)
        refused = client.acknowledge(cancelled)
        assert not refused.accepted and "20002" in refused.message
