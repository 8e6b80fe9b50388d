"""Stock and tracking pushes build the documented requests: the emulators validate and record them."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest

from connectors.ratelimit import RateLimiter
from connectors.registry import PLATFORMS
from pipeline.identity import order_key
from pipeline.model import FulfilledBy, OrderStatus
from pipeline.ports import ShopRef, StockPush, TrackedItem, TrackingPush
from pipeline.sync import sync_orders
from tests.contract.harness import HARNESSES


def _synced(platform, store, redis_client, prefix, emulator):
    harness = HARNESSES[platform]
    shop, secrets = harness.shop(emulator)
    connector = PLATFORMS[platform]
    client = connector.client(shop, secrets, RateLimiter(redis_client, prefix))
    ref = ShopRef("acme", platform, shop.shop_id)
    sync_orders(store, connector, client, ref, now=emulator.clock.now(), lookback=timedelta(days=3))
    return client, ref


def _ready_order(store, ref, emulator):
    for o in emulator.ground_truth():
        stored = store.get("acme", order_key(ref.platform, ref.shop_id, o["id"]))
        order = stored.order if stored else None
        if order and order.status is OrderStatus.READY and order.fulfilled_by is FulfilledBy.SELLER \
                and order.ship_to and order.ship_to.country == "US":
            return stored
    raise AssertionError("no READY seller-fulfilled order in the sandbox")


def test_amazon_tracking_and_stock_pushes(store, redis_client, prefix):
    with HARNESSES["amazon"].emulator(orders=200) as emulator:
        client, ref = _synced("amazon", store, redis_client, prefix, emulator)
        stored = _ready_order(store, ref, emulator)
        order = stored.order
        push = TrackingPush(external_id=order.external_id, carrier="UPS", tracking_number="1Z999AA10123456784",
                            shipped_at=emulator.clock.now() - timedelta(hours=1),
                            items=tuple(TrackedItem(line.line_ids[0], line.quantity) for line in order.lines))
        assert client.push_tracking(push).accepted
        (record,) = emulator.pushed("tracking")
        detail = record["content"]
        assert record["accepted"] and orjson.dumps(detail).count(b"1Z999AA10123456784") >= 1
        sku = order.lines[0].platform_sku
        (outcome,) = client.push_stock([StockPush(sku, 7)])
        assert outcome.accepted, outcome.message
        assert emulator.pushed("stock")[-1]["accepted"]


def test_tiktok_tracking_names_every_unit_and_stock_is_per_product(store, redis_client, prefix):
    with HARNESSES["tiktok"].emulator(orders=200) as emulator:
        client, ref = _synced("tiktok", store, redis_client, prefix, emulator)
        stored = _ready_order(store, ref, emulator)
        order = stored.order
        units = [TrackedItem(uid, 1) for line in order.lines for uid in line.line_ids]
        push = TrackingPush(external_id=order.external_id, carrier="UPS", tracking_number="1Z999AA10123456785",
                            shipped_at=emulator.clock.now(), items=tuple(units))
        assert client.push_tracking(push).accepted
        (record,) = emulator.pushed("tracking")
        assert sorted(record["content"]["order_line_item_ids"]) == sorted(u.line_id for u in units)
        raw_item = orjson.loads(stored.raw)["order"]["line_items"][0]
        (ok,) = client.push_stock([StockPush(raw_item["sku_id"], 12, listing_id=raw_item["product_id"])])
        assert ok.accepted, ok.message
        (too_many,) = client.push_stock([StockPush(raw_item["sku_id"], 150_000, listing_id=raw_item["product_id"])])
        assert too_many.accepted  # clamped to TikTok's 99,999 before sending
        assert [p["accepted"] for p in emulator.pushed("stock")] == [True, True]


REFUSAL_CODES = {"amazon": "4000001", "tiktok": "12052557", "temu": "3000000", "shein": "msc-update-stock-001",
                 "aliexpress": "SKU_NOT_EXIST"}


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_a_refused_stock_push_carries_the_platforms_own_error_code(platform, redis_client, prefix):
    """A SKU the platform does not have, under a listing it does: refused, with the code the platform
    answered (the reason a refusal is recorded and counted by)."""
    harness = HARNESSES[platform]
    with harness.emulator(orders=0) as emulator:
        shop, secrets = harness.shop(emulator)
        client = PLATFORMS[platform].client(shop, secrets, RateLimiter(redis_client, prefix))
        listing_id = emulator.stock_listings()[0]["listing_id"]
        (outcome,) = client.push_stock([StockPush("GHOST-SKU-1", 3, listing_id=listing_id)])
        assert not outcome.accepted and outcome.message
        assert outcome.code == REFUSAL_CODES[platform]
