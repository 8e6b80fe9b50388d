"""TEMU pushes and webhooks end to end: the connector against the emulator, as the emulator records them."""

from __future__ import annotations

from datetime import timedelta

import orjson

from connectors.ratelimit import RateLimiter
from connectors.registry import PLATFORMS
from pipeline.model import FulfilledBy, OrderStatus
from pipeline.ports import ShopRef, StockPush, TrackedItem, TrackingPush
from pipeline.sync import sync_orders
from sandbox.core.faults import FaultInjector
from tests.contract.harness import HARNESSES
from tests.webhook_sink import webhook_sink

HARNESS = HARNESSES["temu"]


def _synced(store, redis_client, prefix, emulator):
    shop, secrets = HARNESS.shop(emulator)
    client = PLATFORMS["temu"].client(shop, secrets, RateLimiter(redis_client, prefix))
    ref = ShopRef("acme", "temu", shop.shop_id)
    sync_orders(store, PLATFORMS["temu"], client, ref, now=emulator.clock.now(), lookback=timedelta(days=3))
    return client, ref


def _ready_multi_child_order(store, ref, emulator):
    for truth in emulator.ground_truth():
        stored = store.get("acme", f"temu:{ref.shop_id}:{truth['id']}")
        order = stored.order if stored else None
        if order and order.status is OrderStatus.READY and order.fulfilled_by is FulfilledBy.SELLER \
                and len(order.lines) > 1:
            return stored
    raise AssertionError("no READY seller-fulfilled order with two children in the sandbox")


def test_each_package_is_one_confirmation_naming_its_child_orders(store, redis_client, prefix):
    with HARNESS.emulator(orders=300) as emulator:
        client, ref = _synced(store, redis_client, prefix, emulator)
        order = _ready_multi_child_order(store, ref, emulator).order
        first, *rest = order.lines
        now = emulator.clock.now()
        package_one = TrackingPush(external_id=order.external_id, carrier="UPS", tracking_number="1ZTEMUPKG0001",
                                   shipped_at=now, items=(TrackedItem(first.line_ids[0], first.quantity),))
        package_two = TrackingPush(external_id=order.external_id, carrier="USPS", tracking_number="9400TEMUPKG0002",
                                   shipped_at=now, items=tuple(TrackedItem(ln.line_ids[0], ln.quantity) for ln in rest))
        assert client.push_tracking(package_one).accepted
        assert client.push_tracking(package_two).accepted
        records = emulator.pushed("tracking")
        assert [r["content"]["trackingNumber"] for r in records] == ["1ZTEMUPKG0001", "9400TEMUPKG0002"]
        assert [[i["orderSn"] for i in r["content"]["items"]] for r in records] == [
            [first.line_ids[0]], [ln.line_ids[0] for ln in rest]]
        assert records[0]["content"]["carrier"] == "UPS" and records[0]["content"]["sendType"] == 0
        assert emulator.ground_truth() and next(
            t for t in emulator.ground_truth() if t["id"] == order.external_id)["status"] == 4

        retried = client.push_tracking(package_one)  # a retry whose first answer was lost
        assert retried.accepted and retried.message == "already confirmed"
        other = next(t["id"] for t in emulator.ground_truth() if t["status"] == 2 and t["id"] != order.external_id
                     and not emulator.orders[t["id"]].platform_fulfilled)
        other_order = store.get("acme", f"temu:{ref.shop_id}:{other}").order
        reused = TrackingPush(external_id=other, carrier="UPS", tracking_number="1ZTEMUPKG0001", shipped_at=now,
                              items=tuple(TrackedItem(ln.line_ids[0], ln.quantity) for ln in other_order.lines))
        refused = client.push_tracking(reused)
        assert not refused.accepted and "already been used" in refused.message
        assert [r["accepted"] for r in emulator.pushed("tracking")] == [True, True, False, False]


def _seed_dropping_only_the_first_answer(operation: str) -> int:
    for seed in range(200):
        probe = FaultInjector()
        probe.configure(drop_response_rate=0.5, seed=seed, operations=[operation])
        if [probe.plan(operation).drop_response for _ in range(2)] == [True, False]:
            return seed
    raise AssertionError("no such seed")


def test_stock_is_pushed_per_goods_and_a_retry_after_a_lost_answer_is_a_no_op(store, redis_client, prefix):
    edit = "bg.local.goods.stock.edit"
    with HARNESS.emulator(orders=100) as emulator:
        client, ref = _synced(store, redis_client, prefix, emulator)
        stored = next(s for t in emulator.ground_truth()
                      if (s := store.get("acme", f"temu:{ref.shop_id}:{t['id']}")) and s.order)
        child = orjson.loads(stored.raw)["order"]["orderList"][0]
        emulator.configure_faults(drop_response_rate=0.5, seed=_seed_dropping_only_the_first_answer(edit),
                                  operations=[edit])
        push = StockPush(child["skuId"], 12, listing_id=child["goodsId"])
        assert [o.accepted for o in client.push_stock([push])] == [True]
        assert emulator.counters.get(edit) == 2  # the answer was lost and the edit sent again...
        records = emulator.pushed("stock")
        assert len(records) == 1 and records[0]["content"]["stockTarget"] == 12  # ...and applied once
        assert records[0]["content"]["skuId"] == child["skuId"]
        emulator.configure_faults()
        mall = records[0]["account"]
        for quantity in (5, 12):  # 12 again after 5 must not be mistaken for a repeat
            assert [o.accepted for o in client.push_stock([StockPush(child["skuId"], quantity, child["goodsId"])])] == [True]
            assert emulator.stock[(mall, child["skuId"])] == quantity
        refused = client.push_stock([StockPush("no-goods", 1)])
        assert [(o.ref, o.accepted) for o in refused] == [("no-goods", False)]


def _capture_webhooks(emulator, sn, *, forge):
    with webhook_sink() as (base, received):
        emulator.send_order_webhook(f"{base}/hook", sn, forge=forge)
    return received[0].headers, received[0].body


def test_webhook_receiver_decrypts_genuine_events_and_rejects_forged_ones():
    receiver = PLATFORMS["temu"].capabilities.webhooks
    with HARNESS.emulator(orders=20) as emulator:
        sn = emulator.ground_truth()[0]["id"]
        headers, body = _capture_webhooks(emulator, sn, forge=False)
        assert receiver.verify(HARNESS.secrets, headers, body).order_ids == (sn,)
        forged_headers, forged_body = _capture_webhooks(emulator, sn, forge=True)
        assert receiver.verify(HARNESS.secrets, forged_headers, forged_body) is None
        assert receiver.verify(HARNESS.secrets | {"app_secret": "another-app-secret-0000"}, headers, body) is None
        tampered = {**headers, "x-tm-event-code": "bg_aftersales_status_change"}
        assert receiver.verify(HARNESS.secrets, tampered, body) is None
    assert receiver.ok_reply == {"result": {}}


def test_stock_pushes_stay_absolute_and_within_temus_range(store, redis_client, prefix):
    """bg.local.goods.stock.edit takes 0..1000000 (150013002, "Quantity must be between 0 and 1000000"): a larger
    number is sent as 1000000, in the absolute form (skuStockTargetList), never as a diff."""
    with HARNESS.emulator(orders=0) as emulator:
        shop, secrets = HARNESS.shop(emulator)
        client = PLATFORMS["temu"].client(shop, secrets, RateLimiter(redis_client, prefix))
        row = emulator.stock_listings()[0]
        (outcome,) = client.push_stock([StockPush(row["platform_sku"], 2_000_000, listing_id=row["listing_id"])])
        assert outcome.accepted, outcome.message
        (record,) = emulator.pushed("stock")
        assert (record["content"]["stockTarget"], record["content"]["stockDiff"]) == (1_000_000, None)


def test_a_sku_temu_says_it_did_not_edit_is_refused_with_its_code(redis_client, prefix, monkeypatch):
    """A successful answer still reports per SKU (`skuStockEditStatusInfoList[].stockEditStatus`, errorCode,
    errorMsg: the published response of bg.local.goods.stock.edit): a SKU marked false is a refused push."""
    with HARNESS.emulator(orders=0) as emulator:
        shop, secrets = HARNESS.shop(emulator)
        client = PLATFORMS["temu"].client(shop, secrets, RateLimiter(redis_client, prefix))
        answer = {"goodsId": 1, "operateResult": False, "msg": "partly", "skuStockEditStatusInfoList": [
            {"skuId": 11, "stockEditStatus": True, "errorCode": 1000000, "errorMsg": ""},
            {"skuId": 12, "stockEditStatus": False, "errorCode": 150010005, "errorMsg": "Try again later"}]}
        monkeypatch.setattr(client, "call", lambda *args, **kwargs: answer)
        outcomes = client.push_stock([StockPush("11", 1, listing_id="1"), StockPush("12", 1, listing_id="1")])
        assert [(o.ref, o.accepted, o.code, o.message) for o in outcomes] == [
            ("11", True, "", ""), ("12", False, "150010005", "Try again later")]
