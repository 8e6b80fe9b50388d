"""TikTok Shop emulator over real HTTP: signing, tokens, search paging, unit rows, PII, pushes, webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import Counter

import requests

from sandbox import RateLimit, TikTokEmulator
from sandbox.core.demo_accounts import TIKTOK_DEMO_SHOPS
from sandbox.tiktok.shapes import PRODUCT_IDS, SKU_IDS
from tests.sandbox.conftest import TikTokClient
from tests.webhook_sink import webhook_sink

SEARCH = "/order/202309/orders/search"


def test_refresh_token_and_authorized_shops(tiktok):
    client = TikTokClient(tiktok)
    assert client.token.startswith("TTP_")
    shops = client.call("GET", "/authorization/202309/shops", with_shop=False).json()
    assert shops["code"] == 0
    assert shops["data"]["shops"][0]["cipher"] == TIKTOK_DEMO_SHOPS[0].shop_cipher
    refused = client.http.get(tiktok.url + "/api/v2/token/refresh", params={
        "app_key": client.shop.app_key, "app_secret": client.shop.app_secret, "refresh_token": "TTP_bogus",
        "grant_type": "refresh_token"}).json()
    assert refused["code"] != 0 and refused["data"] is None
    with_cipher = client.call("GET", "/authorization/202309/shops").json()
    assert with_cipher["code"] == 36009004 and "shop_cipher" in with_cipher["message"]


def test_token_expiry_is_told_in_wall_clock_time_while_the_sandbox_clock_sits_in_the_past(tiktok):
    """A client compares access_token_expire_in with its own clock: in sandbox time (2025 here) every
    token would look expired and be refreshed before each call."""
    reply = requests.get(tiktok.url + "/api/v2/token/refresh", timeout=5, params={
        "app_key": TIKTOK_DEMO_SHOPS[0].app_key, "app_secret": TIKTOK_DEMO_SHOPS[0].app_secret,
        "refresh_token": TIKTOK_DEMO_SHOPS[0].refresh_token, "grant_type": "refresh_token"}).json()["data"]
    lifetime = reply["access_token_expire_in"] - time.time()
    assert tiktok.clock.now().timestamp() < time.time() - 86400  # the fixture's frozen clock is in the past
    assert tiktok.token_lifetime - 60 < lifetime <= tiktok.token_lifetime
    assert reply["refresh_token_expire_in"] - time.time() > 364 * 86400


def test_signature_timestamp_and_token_failures(tiktok):
    client = TikTokClient(tiktok)
    wrong_sign = client.call("POST", SEARCH, {"page_size": 10}, {}, secret="not-the-secret")
    assert wrong_sign.status_code == 200
    body = wrong_sign.json()
    assert body["code"] == 106001 and body["message"] == "Invalid credentials. The `sign` query parameter is invalid."
    assert body["data"] is None and len(body["request_id"]) == 34
    stale = client.call("POST", SEARCH, {"page_size": 10}, {}, timestamp=int(time.time()) - 301).json()
    assert stale["code"] == 36009004 and "5 minutes" in stale["message"]
    no_cipher = client.call("POST", SEARCH, {"page_size": 10}, {}, with_shop=False).json()
    assert no_cipher["code"] == 106013
    bad_token = client.call("POST", SEARCH, {"page_size": 10}, {}, token="TTP_forged").json()
    assert bad_token["code"] == 36009004 and "x-tts-access-token" in bad_token["message"]
    other_shop = client.call("POST", SEARCH, {"page_size": 10, "shop_cipher": TIKTOK_DEMO_SHOPS[1].shop_cipher}, {})
    assert other_shop.json()["code"] == 36009004
    tiktok.clock.advance(7 * 86400 + 1)
    expired = client.call("POST", SEARCH, {"page_size": 10}, {}).json()
    assert expired["code"] == 105002
    assert tiktok.counters.get("searchOrders", "auth_failures") == 6


def test_search_pages_cover_every_order_exactly_once(tiktok):
    client = TikTokClient(tiktok)
    seen, token, pages = Counter(), "", 0
    while True:
        params = {"sort_field": "update_time", "sort_order": "ASC", **({"page_token": token} if token else {})}
        data = client.search(page_size=9, body={"update_time_ge": 0}, **params)["data"]
        seen.update(o["id"] for o in data["orders"])
        pages += 1
        token = data["next_page_token"]
        if not token:
            break
    assert pages > 2 and max(seen.values()) == 1
    truth = {r["id"] for r in tiktok.ground_truth() if r["account"] == client.shop.shop_id
             and r["update_time"] < tiktok.clock.timestamp()}
    assert set(seen) == truth and data["total_count"] == len(truth)


def test_search_window_is_ge_inclusive_and_lt_exclusive(tiktok):
    client = TikTokClient(tiktok)
    everything = client.search(page_size=100, body={"update_time_ge": 0})["data"]["orders"]
    pivot = sorted(o["update_time"] for o in everything)[len(everything) // 2]
    below = client.search(page_size=100, body={"update_time_ge": 0, "update_time_lt": pivot})["data"]["orders"]
    from_pivot = client.search(page_size=100, body={"update_time_ge": pivot})["data"]["orders"]
    assert all(o["update_time"] < pivot for o in below) and all(o["update_time"] >= pivot for o in from_pivot)
    assert len(below) + len(from_pivot) == len(everything)
    assert client.search(page_size=101)["code"] == 98001004
    assert client.search(page_size=10, body={"update_time_ge": "yesterday"})["code"] == 98001004


def test_orders_have_one_line_item_per_unit_and_tiktok_types(tiktok):
    client = TikTokClient(tiktok)
    oid, order = next((oid, o) for oid, o in tiktok.orders.items() if o.account == client.shop.shop_id
                      and any(line.quantity > 1 for line in o.lines) and o.visible(tiktok.clock.now()))
    doc = client.call("GET", "/order/202309/orders", {"ids": oid}).json()["data"]["orders"][0]
    assert len(doc["line_items"]) == sum(line.quantity for line in order.lines)
    assert len({row["id"] for row in doc["line_items"]}) == len(doc["line_items"])
    multi = next(line for line in order.lines if line.quantity > 1)
    rows = [row for row in doc["line_items"] if row["seller_sku"] == multi.item.sku]
    assert len(rows) == multi.quantity and len({row["sku_id"] for row in rows}) == 1
    assert "quantity" not in rows[0] and isinstance(rows[0]["sale_price"], str)
    assert isinstance(doc["create_time"], int) and isinstance(doc["payment"]["total_amount"], str)
    assert doc["payment"]["currency"] == "USD"


def test_us_recipient_address_is_masked_by_status_not_by_logistics(tiktok):
    """TikTok changelog "US market: Changes to recipient_address masking" (effective 21 July 2025,
    https://partner.tiktokshop.com/docv2/page/682fda578992fb0499d40ed3): US seller- and TikTok-shipped
    orders are masked only while UNPAID, ON_HOLD or CANCELLED; FBT orders always."""
    client = TikTokClient(tiktok)
    orders = client.search(page_size=100, body={"update_time_ge": 0})["data"]["orders"]
    shown = next(o for o in orders if o["shipping_type"] == "TIKTOK" and o["status"] == "AWAITING_SHIPMENT"
                 and o["fulfillment_type"] == "FULFILLMENT_BY_SELLER")
    assert "*" not in shown["recipient_address"]["name"] + shown["recipient_address"]["address_line1"]
    cancelled = next(o for o in orders if o["status"] == "CANCELLED")["recipient_address"]
    assert cancelled["phone_number"].startswith("(+1)") and "-***-" in cancelled["phone_number"]
    assert "***" in cancelled["name"] and "***" in cancelled["address_line1"] and "*" in cancelled["postal_code"]
    assert cancelled["region_code"] == "US" and cancelled["district_info"][1]["address_level"] == "L1"
    assert "*" not in cancelled["district_info"][1]["address_name"]  # the state stays readable
    fbt = [o for o in orders if o["fulfillment_type"] == "FULFILLMENT_BY_TIKTOK"]
    assert all("***" in o["recipient_address"]["name"] for o in fbt)
    now = tiktok.clock.now()
    oid, order = min(((oid, o) for oid, o in tiktok.orders.items() if o.account == client.shop.shop_id
                      and o.created_at > now), key=lambda pair: pair[1].created_at)
    tiktok.clock.advance((order.created_at - now).total_seconds() + 1)
    unpaid = client.call("GET", "/order/202309/orders", {"ids": oid}).json()["data"]["orders"][0]
    assert unpaid["status"] == "UNPAID" and "***" in unpaid["recipient_address"]["address_line1"]


def test_throttling_is_http_429_with_retry_after_and_code(clock):
    with TikTokEmulator(clock=clock, orders=30, rate_limits={"searchOrders": RateLimit(1, 2)}) as tiktok:
        client = TikTokClient(tiktok)
        replies = [client.call("POST", SEARCH, {"page_size": 5}, {}) for _ in range(3)]
        assert [r.status_code for r in replies] == [200, 200, 429]
        assert replies[2].headers["retry-after"] == "1"
        assert replies[2].json()["code"] == 36009002
        assert replies[2].json()["message"].startswith("Too many requests.")
        clock.advance(1)
        assert client.call("POST", SEARCH, {"page_size": 5}, {}).status_code == 200
        assert tiktok.counters.get("searchOrders", "throttled") == 1


def test_inventory_update_validates_quantity_per_sku(tiktok):
    client = TikTokClient(tiktok)
    product = PRODUCT_IDS["BCB"]
    path = f"/product/202309/products/{product}/inventory/update"
    good = client.call("POST", path, body={"skus": [{"id": SKU_IDS["OH-BCB-S"], "inventory": [{"quantity": 7}]}]})
    assert good.json()["code"] == 0 and good.json()["data"] == {}
    bad = client.call("POST", path, body={"skus": [
        {"id": SKU_IDS["OH-BCB-M"], "inventory": [{"quantity": 100000}]},
        {"id": SKU_IDS["OH-BCB-L"], "inventory": [{"quantity": 99999}]}]}).json()
    assert bad["code"] == 0
    assert [e["detail"]["sku_id"] for e in bad["data"]["errors"]] == [SKU_IDS["OH-BCB-M"]]
    assert bad["data"]["errors"][0]["detail"]["extra_errors"][0]["code"] == 12019024
    foreign = client.call("POST", path, body={"skus": [{"id": SKU_IDS["OH-YGM-GREY"], "inventory": [{"quantity": 1}]}]})
    assert foreign.json()["data"]["errors"][0]["code"] == 12052557
    records = tiktok.pushed("stock")
    assert [(r["content"]["seller_sku"], r["accepted"]) for r in records] == [
        ("OH-BCB-S", True), ("OH-BCB-M", False), ("OH-BCB-L", True), ("OH-YGM-GREY", False)]
    assert tiktok.stock[(client.shop.shop_id, SKU_IDS["OH-BCB-S"])] == 7


def test_mark_package_shipped_moves_units_and_status(tiktok):
    client = TikTokClient(tiktok)
    oid = next(oid for oid, o in tiktok.orders.items() if o.account == client.shop.shop_id
               and not o.platform_fulfilled and len(o.units()) > 1
               and o.state(tiktok.clock.now()).status.value == "READY")
    rows = client.call("GET", "/order/202309/orders", {"ids": oid}).json()["data"]["orders"][0]["line_items"]
    path = f"/fulfillment/202309/orders/{oid}/packages"
    body = {"order_line_item_ids": [rows[0]["id"]], "shipping_provider_id": "6617675021119438849",
            "tracking_number": "1ZTEST0001"}
    shipped = client.call("POST", path, body=body).json()
    assert shipped["code"] == 0 and shipped["data"]["package_id"]
    again = client.call("POST", path, body=body).json()
    assert again["code"] == 98001004 and "already shipped" in again["message"]
    foreign = client.call("POST", path, body={**body, "order_line_item_ids": ["577000"]}).json()
    assert foreign["code"] == 98001004
    doc = client.call("GET", "/order/202309/orders", {"ids": oid}).json()["data"]["orders"][0]
    assert doc["status"] == "PARTIALLY_SHIPPING"
    assert doc["line_items"][0]["package_status"] == "FULFILLING"
    assert doc["line_items"][0]["tracking_number"] == "1ZTEST0001"
    assert [r["accepted"] for r in tiktok.pushed("tracking")] == [True, False, False]


def test_webhook_is_signed_and_can_be_forged(tiktok):
    with webhook_sink() as (base, deliveries):
        oid = next(r["id"] for r in tiktok.ground_truth())
        assert tiktok.send_order_webhook(f"{base}/hook", oid) == 200
        assert tiktok.send_order_webhook(f"{base}/hook", oid, forge=True) == 200
    received = [(d.body, d.headers["authorization"]) for d in deliveries]
    shop = TIKTOK_DEMO_SHOPS[[s.shop_id for s in TIKTOK_DEMO_SHOPS].index(tiktok.orders[oid].account)]
    good, forged = received
    expected = hmac.new(shop.app_secret.encode(), shop.app_key.encode() + good[0], hashlib.sha256).hexdigest()
    assert good[1] == expected and forged[1] != expected
    assert json.loads(good[0])["data"]["order_id"] == oid and json.loads(good[0])["type"] == 1
