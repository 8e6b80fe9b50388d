"""TikTok emulator API versions: order detail at 202309 and 202507, mark-as-shipped at 202309 and 202610,
any other version of a known path refused with 36009014 (docs/platforms/tiktok.md, Versions)."""

from __future__ import annotations

from sandbox import RateLimit, TikTokEmulator
from tests.sandbox.conftest import TikTokClient

UPS = "6617675021119438849"


def _ready_multi_unit_order(tiktok) -> str:
    now = tiktok.clock.now()
    return next(oid for oid, o in tiktok.orders.items() if o.account == TikTokClient(tiktok).shop.shop_id
                and not o.platform_fulfilled and len(o.units()) > 1 and o.state(now).status.value == "READY")


def test_order_detail_202507_and_202309_give_the_same_order(tiktok):
    """TikTok "Get Order Detail" 202507 (https://partner.tiktokshop.com/docv2/page/6894134ba28e5204961601a5)
    adds only Brazil's payment fields to 202309; a sandbox order is the same document in both."""
    client = TikTokClient(tiktok)
    oid = next(r["id"] for r in tiktok.ground_truth() if r["account"] == client.shop.shop_id)
    old, new = (client.call("GET", f"/order/{v}/orders", {"ids": oid}).json() for v in ("202309", "202507"))
    assert old["code"] == new["code"] == 0 and old["data"] == new["data"]
    assert tiktok.paths_served["GET /order/202507/orders"] == tiktok.paths_served["GET /order/202309/orders"] == 1


def test_an_unserved_version_is_refused_with_36009014(tiktok):
    """TikTok "API versioning" (https://partner.tiktokshop.com/docv2/page/64f1991064ed2e0295f3cd32): a
    retired or invalid version answers 36009014 "The version name is invalid, please check and retry."."""
    client = TikTokClient(tiktok)
    for method, path in (("GET", "/order/202401/orders"), ("POST", "/fulfillment/202512/orders/5761/packages"),
                         ("POST", "/order/v2/orders/search")):
        reply = client.call(method, path, {"ids": "5761"} if method == "GET" else None, {} if method == "POST" else None)
        assert reply.json()["code"] == 36009014, path
        assert reply.json()["message"] == "The version name is invalid, please check and retry."
    assert client.call("GET", "/order/202507/nothing").json()["code"] == 36009009


def test_mark_package_as_shipped_202610_takes_line_and_shipping_lists(tiktok):
    client = TikTokClient(tiktok)
    oid = _ready_multi_unit_order(tiktok)
    rows = client.call("GET", "/order/202507/orders", {"ids": oid}).json()["data"]["orders"][0]["line_items"]
    path = f"/fulfillment/202610/orders/{oid}/packages"
    old_shape = {"order_line_item_ids": [rows[0]["id"]], "shipping_provider_id": UPS, "tracking_number": "1ZV1"}
    assert client.call("POST", path, body=old_shape).json()["code"] == 98001004
    two_numbers = {"order_line_list": [{"order_line_id": rows[0]["id"]}], "shipping_info_list": [
        {"tracking_number": "1ZV2", "shipping_provider_id": UPS}, {"tracking_number": "1ZV3", "shipping_provider_id": UPS}]}
    assert client.call("POST", path, body=two_numbers).json()["code"] == 98001004
    body = {"order_line_list": [{"order_line_id": rows[0]["id"]}],
            "shipping_info_list": [{"tracking_number": "1ZV4", "shipping_provider_id": UPS}]}
    shipped = client.call("POST", path, body=body).json()
    assert shipped["code"] == 0 and shipped["data"]["order_line_item_ids"] == [rows[0]["id"]]
    assert client.call("POST", path, body=body).json()["code"] == 98001004  # that unit has left already
    doc = client.call("GET", "/order/202507/orders", {"ids": oid}).json()["data"]["orders"][0]
    assert doc["status"] == "PARTIALLY_SHIPPING" and doc["line_items"][0]["tracking_number"] == "1ZV4"
    records = tiktok.pushed("tracking")
    assert [(r["accepted"], r["content"]["version"]) for r in records] == [(False, "202610")] * 2 + [
        (True, "202610"), (False, "202610")]
    assert records[2]["content"]["order_line_item_ids"] == [rows[0]["id"]]
    assert records[2]["content"]["tracking_number"] == "1ZV4"


def test_versions_of_one_api_share_its_rate_limit(clock):
    with TikTokEmulator(clock=clock, orders=30, rate_limits={"getOrderDetail": RateLimit(1, 2)}) as tiktok:
        client = TikTokClient(tiktok)
        oid = next(r["id"] for r in tiktok.ground_truth())
        codes = [client.call("GET", f"/order/{v}/orders", {"ids": oid}).status_code
                 for v in ("202309", "202507", "202507")]
    assert codes == [200, 200, 429]
