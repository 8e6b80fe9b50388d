"""AliExpress pushes against its emulator: fulfil with the right send_type and service, stock in the fewest calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import orjson
import pytest
import requests

from connectors.aliexpress import client as aliexpress_client
from connectors.http import Action
from connectors.ratelimit import RateLimiter
from connectors.registry import PLATFORMS
from pipeline.model import OrderStatus
from pipeline.ports import ShopRef, StockPush, TrackedItem, TrackingPush
from pipeline.sync import sync_orders
from sandbox import SandboxClock
from sandbox.aliexpress.shapes import PRODUCT_IDS
from sandbox.core.world import CATALOGUE
from tests.contract.harness import HARNESSES

STOCK = "aliexpress.solution.batch.product.inventory.update"


def _synced(store, redis_client, prefix, emulator):
    harness = HARNESSES["aliexpress"]
    shop, secrets = harness.shop(emulator)
    connector = PLATFORMS["aliexpress"]
    client = connector.client(shop, secrets, RateLimiter(redis_client, prefix))
    ref = ShopRef("acme", "aliexpress", shop.shop_id)
    sync_orders(store, connector, client, ref, now=emulator.clock.now(), lookback=timedelta(days=3))
    return client, ref


def _ready_orders(store, ref, emulator):
    for row in emulator.ground_truth():
        stored = store.get("acme", f"aliexpress:{ref.shop_id}:{row['id']}")
        if stored and stored.order and stored.order.status is OrderStatus.READY and stored.order.ship_to:
            yield stored.order


def _status(emulator, order_id):
    return next(r["status"] for r in emulator.ground_truth() if r["id"] == order_id)


def test_tracking_push_completes_or_parts_the_order(store, redis_client, prefix):
    with HARNESSES["aliexpress"].emulator(orders=200) as emulator:
        client, ref = _synced(store, redis_client, prefix, emulator)
        ready = list(_ready_orders(store, ref, emulator))
        whole = ready[0]
        split = next(o for o in ready[1:] if o.units > 1)
        fetched = client.fetch_order(whole.external_id)  # order.get has no id filter: found via its gmt_modified
        assert str(fetched["order"]["order_id"]) == whole.external_id and fetched["address"]["contact_person"]
        assert PLATFORMS["aliexpress"].map_order(fetched, ref) == msgspec.structs.replace(whole, payload_hash="")
        push = TrackingPush(external_id=whole.external_id, carrier="UPS", tracking_number="1Z999AA10123456784",
                            shipped_at=emulator.clock.now(),
                            items=tuple(TrackedItem(line.line_ids[0], line.quantity) for line in whole.lines))
        assert client.push_tracking(push).accepted
        first = split.lines[0]
        partial = TrackingPush(external_id=split.external_id, carrier="Yamato", tracking_number="4470-1234-5678",
                               shipped_at=emulator.clock.now(), items=(TrackedItem(first.line_ids[0], 1),))
        assert client.push_tracking(partial).accepted

        (full, part) = emulator.pushed("tracking")
        assert full["accepted"] and full["content"] == {
            "out_ref": whole.external_id, "service_name": "UPS", "send_type": "all",
            "logistics_no": "1Z999AA10123456784"}
        assert part["accepted"] and part["content"]["send_type"] == "part"
        assert part["content"]["service_name"] == "OTHER" and part["content"]["tracking_website"].startswith("https://")
        assert _status(emulator, whole.external_id) == "WAIT_BUYER_ACCEPT_GOODS"
        assert _status(emulator, split.external_id) == "SELLER_PART_SEND_GOODS"


def test_stock_for_45_products_goes_in_three_calls(store, redis_client, prefix):
    with HARNESSES["aliexpress"].emulator(orders=20) as emulator:
        client, _ = _synced(store, redis_client, prefix, emulator)
        real = [StockPush(item.sku, 9, listing_id=str(PRODUCT_IDS[item.family])) for item in CATALOGUE]
        families = {p.listing_id for p in real}
        unknown = [StockPush(f"GHOST-{n}-{v}", 3, listing_id=str(1005999000000000 + n))
                   for n in range(45 - len(families)) for v in range(2)]
        before = emulator.counters.get(STOCK)
        outcomes = client.push_stock(real + unknown + [StockPush("NO-LISTING", 1)])
        assert emulator.counters.get(STOCK) - before == 3  # 45 products, at most 20 a call
        by_sku = {o.ref: o for o in outcomes}
        assert all(by_sku[p.platform_sku].accepted for p in real)
        assert not any(by_sku[p.platform_sku].accepted for p in unknown)
        assert "product" in by_sku[unknown[0].platform_sku].message
        assert not by_sku["NO-LISTING"].accepted
        accepted = [p for p in emulator.pushed("stock") if p["accepted"]]
        assert len(accepted) == len(real) and orjson.dumps(accepted[0]["content"]).count(b'"inventory":9') == 1


def test_a_product_with_more_than_200_skus_is_split_across_calls(store, redis_client, prefix):
    with HARNESSES["aliexpress"].emulator(orders=20) as emulator:
        client, _ = _synced(store, redis_client, prefix, emulator)
        wide = [StockPush(f"W-{n}", 1, listing_id="1005999999999999") for n in range(250)]
        before = emulator.counters.get(STOCK)
        outcomes = client.push_stock(wide)
        assert emulator.counters.get(STOCK) - before == 2 and len(outcomes) == 250
        assert len(emulator.pushed("stock")) == 250  # every SKU reached the platform (and was refused there)


# --- not a push, but the client's other Pacific-time duty: sync windows across daylight saving ------

FALL_BACK_2026 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)  # 01:00-02:00 Pacific happens twice after this
SPRING_FORWARD_2026 = datetime(2026, 3, 8, 10, 0, tzinfo=UTC)  # 02:00-03:00 Pacific never happens


@pytest.mark.parametrize(("change", "margin"), [(FALL_BACK_2026, timedelta(hours=1)), (FALL_BACK_2026, timedelta(0)),
                                                (SPRING_FORWARD_2026, timedelta(hours=1))])
def test_sync_windows_across_daylight_saving_lose_nothing(change, margin, store, redis_client, prefix, monkeypatch):
    """A cursor at 01:20 PST is written "01:20", which AliExpress may read as 01:20 PDT, an hour
    earlier: unwidened (margin 0), orders changed in between are never read; widened, all are.

    Update times written inside the repeated hour with nothing in the order to place them may be
    read an hour early (the mapping's documented default): that is allowed here, nothing else is.
    """
    monkeypatch.setattr(aliexpress_client, "DST_MARGIN", margin)
    clock = SandboxClock(start=change + timedelta(minutes=20), factor=0)
    with HARNESSES["aliexpress"].emulator(orders=1500, seed=4, clock=clock) as emulator:
        client, ref = _synced(store, redis_client, prefix, emulator)
        for _ in range(3):
            emulator.clock.advance(12 * 3600)
            sync_orders(store, PLATFORMS["aliexpress"], client, ref, now=emulator.clock.now())
        truth = emulator.ground_truth()
    stored = {r["id"]: store.get("acme", f"aliexpress:{ref.shop_id}:{r['id']}") for r in truth}
    missing = [oid for oid, s in stored.items() if s is None or s.order is None]
    if margin:
        assert missing == []
        for row in truth:
            off = datetime.fromisoformat(row["updated_at"]).replace(microsecond=0) - stored[row["id"]].order.updated_at
            repeated_hour = row["gmt_update"].startswith("2026-11-01 01:")
            assert off == timedelta(0) or (repeated_hour and off == timedelta(hours=1)), row
    else:
        assert missing, "the scenario must have orders that only an unwidened window misses"


def test_gateway_and_business_errors_classify_by_what_to_do():
    def verdict(body, status=200):
        response = requests.Response()
        response.status_code = status
        return aliexpress_client.classify(response, body).action

    gateway = {"type": "ISV", "message": "m", "request_id": "r"}
    assert verdict({**gateway, "type": "ISP", "code": "ApiCallLimit"}) is Action.RATE_LIMITED
    assert verdict({**gateway, "code": "AppCallLimit"}) is Action.RATE_LIMITED
    assert verdict({**gateway, "type": "SYSTEM", "code": "ServiceUnavailable"}, 503) is Action.RETRYABLE
    assert verdict({**gateway, "type": "ISP", "code": "isp.remote-service-error"}) is Action.RETRYABLE
    for code in ("IllegalAccessToken", "IncompleteSignature", "InvalidSignature", "InvalidAppKey"):
        assert verdict({**gateway, "code": code}) is Action.AUTH
    assert verdict({**gateway, "code": "InvalidApiName"}) is Action.REJECTED
    wrapped = {"aliexpress_solution_order_fulfill_response": {"result": {"success": False, "error_code": "X"}}}
    assert verdict(wrapped) is Action.REJECTED
    wrapped["aliexpress_solution_order_fulfill_response"]["result"]["success"] = True
    assert verdict(wrapped) is Action.OK
    assert verdict(None) is Action.RETRYABLE
