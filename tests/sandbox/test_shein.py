"""SHEIN emulator over real HTTP: signing, windows, paging, status types, unit rows, address export,
inventory, tracking per goodsId, throttling and webhooks.

The little client here signs with its own code written from docs/platforms/shein.md, independent of both
connectors/ and the emulator, so a shared mistake cannot pass unnoticed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from sandbox import RateLimit, SandboxClock
from sandbox.core.demo_accounts import SHEIN_DEMO_SHOPS
from sandbox.shein.emulator import SheinEmulator
from sandbox.shein.push import known_sku_codes

START = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
CST = timezone(timedelta(hours=8))
US = SHEIN_DEMO_SHOPS[0]
LIST, DETAIL, ADDRESS = "/open-api/order/order-list", "/open-api/order/order-detail", "/open-api/order/export-address"


def sheinsign(key_id: str, secret: str, path: str, timestamp: str, random_key: str = "Ab3x9") -> str:
    plain = "&".join((key_id, timestamp, path))
    hex_digest = hmac.new(f"{secret}{random_key}".encode(), plain.encode(), hashlib.sha256).hexdigest()
    return random_key + base64.b64encode(hex_digest.encode("ascii")).decode("ascii")


class Client:
    def __init__(self, emulator: SheinEmulator, shop=US) -> None:
        self.emulator, self.shop = emulator, shop
        self.http = requests.Session()

    def call(self, path: str, body: Any = None, *, method: str = "POST", secret: str | None = None,
             timestamp: int | None = None) -> requests.Response:
        stamp = str(int(time.time() * 1000) if timestamp is None else timestamp)
        headers = {"x-lt-openKeyId": self.shop.open_key_id, "x-lt-timestamp": stamp,
                   "x-lt-signature": sheinsign(self.shop.open_key_id, secret or self.shop.secret_key_plain, path, stamp)}
        return self.http.request(method, self.emulator.url + path, json=body, headers=headers)

    def ok(self, path: str, body: Any = None, **kw: Any) -> Any:
        reply = self.call(path, body, **kw)
        assert reply.status_code == 200, reply.text
        doc = json.loads(reply.content, parse_float=str)
        assert doc["code"] == "0", doc
        return doc["info"]

    def listing(self, start: datetime, end: datetime, page: int = 1, size: int = 30) -> requests.Response:
        return self.call(LIST, window(start, end, page, size))


def window(start: datetime, end: datetime, page: int = 1, size: int = 30) -> dict[str, Any]:
    """An order-list body by update time, the times as UTC+8 strings."""
    return {"queryType": 2, "startTime": start.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S"),
            "endTime": end.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S"), "page": page, "pageSize": size}


@pytest.fixture
def shein() -> Iterator[SheinEmulator]:
    with SheinEmulator(clock=SandboxClock(start=START, factor=0), orders=300, seed=7) as emulator:
        yield emulator


def _seller_order(emu: SheinEmulator, *, status: int = 1, multi: bool = False) -> str:
    return next(r["id"] for r in emu.ground_truth() if r["account"] == US.open_key_id and r["status"] == status
                and r["performance_type"] == 1 and (not multi or any(line.quantity > 1 for line in emu.orders[r["id"]].lines)))


def test_signature_timestamp_and_key_are_checked(shein):
    client = Client(shein)
    good = client.listing(START - timedelta(hours=6), START)
    assert good.json()["code"] == "0" and isinstance(good.json()["traceId"], str)
    wrong = client.call(LIST, {}, secret="nope")
    assert wrong.status_code == 200 and wrong.json()["code"] == "40001" and wrong.json()["info"] is None
    stale = client.call(LIST, {}, timestamp=int(time.time() * 1000) - 301_000).json()
    assert stale["code"] == "40002"
    seconds = client.call(LIST, {}, timestamp=int(time.time())).json()  # seconds, not ms: far in the past
    assert seconds["code"] == "40002"
    unknown_key = type(US)(US.app_id, US.app_secret, "NOT-A-KEY", US.secret_key, US.secret_key_plain, "1", ("US",))
    stranger = Client(shein, unknown_key).call(LIST, {}).json()
    assert stranger["code"] == "40003"
    # The body is not signed: changing it keeps the same signature valid.
    assert client.listing(START - timedelta(hours=1), START, size=5).json()["code"] == "0"
    assert shein.counters.get("orderList", "auth_failures") == 4


def test_page_size_and_window_limits(shein):
    client = Client(shein)
    assert client.listing(START - timedelta(hours=1), START, size=31).json()["code"] == "10002"
    assert client.listing(START - timedelta(hours=1), START, size=0).json()["code"] == "10002"
    assert client.listing(START - timedelta(hours=48), START).json()["code"] == "0"
    too_long = client.listing(START - timedelta(hours=48, seconds=1), START).json()
    assert too_long["code"] == "10002" and "48" in too_long["msg"]
    bad_time = client.call(LIST, {"queryType": 2, "startTime": "2025-03-03T00:00:00Z", "endTime": "2025-03-03 01:00:00",
                                  "page": 1, "pageSize": 10}).json()
    assert bad_time["code"] == "10002"


def test_pages_cover_every_order_once_and_windows_are_utc8_inclusive(shein):
    client = Client(shein)
    start, end = START - timedelta(hours=48), START
    seen: Counter[str] = Counter()
    first = client.ok(LIST, window(start, end))
    for page in range(1, first["count"] // 7 + 2):
        info = client.ok(LIST, window(start, end, page=page, size=7))
        seen.update(row["orderNo"] for row in info["orderList"])
    truth = [r for r in shein.ground_truth() if r["account"] == US.open_key_id
             and start <= datetime.fromisoformat(r["updated_at"]) <= end]
    assert first["count"] == len(truth) > 30
    assert set(seen) == {r["id"] for r in truth} and max(seen.values()) == 1
    # An order updated exactly at the end second is inside the window (both ends inclusive).
    edge = datetime.fromisoformat(truth[-1]["updated_at"])
    rows = client.ok(LIST, window(edge - timedelta(hours=1), edge))["orderList"]
    assert truth[-1]["id"] in {r["orderNo"] for r in rows}
    assert rows[-1]["orderUpdateTime"].endswith(".000+0800")


def test_duplicated_boundary_repeats_a_row_on_the_next_page(shein):
    shein.configure_faults(duplicate_rate=1.0, seed=1)
    client = Client(shein)
    start, end = START - timedelta(hours=48), START
    page1 = client.ok(LIST, window(start, end, size=10))["orderList"]
    page2 = client.ok(LIST, window(start, end, page=2, size=10))["orderList"]
    assert page2[0]["orderNo"] == page1[-1]["orderNo"] and len(page2) == 10


def test_list_status_is_a_string_and_detail_status_an_int_with_one_row_per_unit(shein):
    client = Client(shein)
    oid = _seller_order(shein, multi=True)
    order = shein.orders[oid]
    rows = client.ok(LIST, window(order.created_at, order.created_at + timedelta(hours=2)))
    listed = next(r for r in rows["orderList"] if r["orderNo"] == oid)
    assert listed["orderStatus"] == "1"
    (detail,) = client.ok(DETAIL, {"orderNoList": [oid]})
    assert detail["orderStatus"] == 1 and detail["performanceType"] == 1
    goods = detail["orderGoodsInfoList"]
    assert len(goods) == sum(line.quantity for line in order.lines)
    assert len({g["goodsId"] for g in goods}) == len(goods) and all(isinstance(g["goodsId"], int) for g in goods)
    assert "quantity" not in goods[0]
    line = order.lines[0]
    # Amounts are bare JSON numbers whose text is the exact decimal (parsed here with parse_float=str).
    assert goods[0]["sellerCurrencyPrice"] == str(line.unit_price)
    assert Decimal(detail["productTotalPrice"]) == order.subtotal()
    raw = client.call(DETAIL, {"orderNoList": [oid]}).content
    assert f'"sellerCurrencyPrice":{line.unit_price}'.encode() in raw
    assert detail["receiveMsg"]["country"] == "United States" and set(detail["receiveMsg"]) == {
        "country", "province", "city", "postCode"}
    assert detail["orderTime"] == order.created_at.astimezone(CST).strftime("%Y-%m-%dT%H:%M:%S.000+0800")
    assert client.call(DETAIL, {"orderNoList": [f"GSH{i}" for i in range(31)]}).json()["code"] == "10002"


def test_shein_fulfilled_orders_wait_for_shein_and_hide_the_address(shein):
    client = Client(shein)
    oid = next(r["id"] for r in shein.ground_truth() if r["account"] == US.open_key_id
               and r["performance_type"] == 2 and r["status"] == 3)
    (detail,) = client.ok(DETAIL, {"orderNoList": [oid]})
    assert detail["orderStatus"] == 3 and detail["performanceType"] == 2
    assert client.call(ADDRESS, {"orderNo": oid, "handleType": 1}).json()["code"] == "20002"


def test_export_address_handle_type_2_moves_pending_processing_to_pending_shipment(shein):
    client = Client(shein)
    oid = _seller_order(shein)
    (entry,) = client.ok(ADDRESS, {"orderNo": oid, "handleType": 1})["receiveMsgList"]
    assert entry["firstName"] and entry["address"] and entry["phone"] and entry["country"] == "United States"
    assert client.ok(DETAIL, {"orderNoList": [oid]})[0]["orderStatus"] == 1
    shein.clock.advance(60)
    client.ok(ADDRESS, {"orderNo": oid, "handleType": 2})
    (detail,) = client.ok(DETAIL, {"orderNoList": [oid]})
    assert detail["orderStatus"] == 2
    now = shein.clock.now()
    listed = client.ok(LIST, window(now - timedelta(minutes=5), now))["orderList"]
    assert {"orderNo": oid, "orderStatus": "2"}.items() <= next(r for r in listed if r["orderNo"] == oid).items()
    summary = next(r for r in shein.ground_truth() if r["id"] == oid)
    assert summary["status"] == 2 and datetime.fromisoformat(summary["updated_at"]) == now


def test_change_inventory_reports_bad_skus_in_failed_list(shein):
    client = Client(shein)
    (warehouse,) = client.ok("/open-api/msc/warehouse/list", method="GET")["list"]
    code = known_sku_codes()["OH-BCB-S"]
    info = client.ok("/open-api/gsp/goods/change-inventory", {"updateSkuInventoryQuantityRequests": [
        {"skuCode": code, "warehouseCode": warehouse["warehouseCode"], "saleInventory": 12},
        {"skuCode": "I-no-such-sku", "warehouseCode": warehouse["warehouseCode"], "saleInventory": 3},
        {"skuCode": known_sku_codes()["OH-BCB-M"], "warehouseCode": warehouse["warehouseCode"],
         "saleInventory": 3, "changeInventoryQuantity": 1},
    ]})
    assert info["successList"] == [{"skuCode": code}]
    failed = {f["skuCode"]: f["code"] for f in info["failedList"]}
    assert failed == {"I-no-such-sku": "msc-update-stock-001", known_sku_codes()["OH-BCB-M"]: "msc-update-stock-003"}
    stock = client.ok("/open-api/stock/stock-query", {"skuCodeList": [code], "warehouseType": "2"})
    assert stock[0]["goodsInventory"][0]["skuList"][0]["totalUsableInventory"] == 12
    assert [p["accepted"] for p in shein.pushed("stock")] == [True, False, False]
    too_many = [{"skuCode": code, "warehouseCode": warehouse["warehouseCode"], "saleInventory": 1}] * 101
    assert client.call("/open-api/gsp/goods/change-inventory",
                       {"updateSkuInventoryQuantityRequests": too_many}).json()["code"] == "10002"


def test_tracking_is_set_per_goods_id_and_ships_exactly_those_units(shein):
    client = Client(shein)
    oid = _seller_order(shein, multi=True)
    (detail,) = client.ok(DETAIL, {"orderNoList": [oid]})
    goods = [g["goodsId"] for g in detail["orderGoodsInfoList"]]
    carriers = {c["expressName"]: c["expressIdCode"] for c in client.ok("/open-api/order/express-channel", {})}
    path = "/open-api/order/import-batch-multiple-express"
    bad_carrier = client.call(path, {"orderNo": oid, "infoList": [
        {"expressCode": "1ZTEST00000001", "expressIdCode": "9999", "goodsId": goods[0], "status": 2}]}).json()
    assert bad_carrier["code"] == "10002" and "expressIdCode" in bad_carrier["msg"]
    bad_number = client.call(path, {"orderNo": oid, "infoList": [
        {"expressCode": "1Z 1", "expressIdCode": carriers["UPS"], "goodsId": goods[0], "status": 2}]}).json()
    assert "expressCode" in bad_number["msg"]
    client.ok(path, {"orderNo": oid, "infoList": [
        {"expressCode": "1ZTEST00000001", "expressIdCode": carriers["UPS"], "goodsId": goods[0], "status": 2}]})
    (after,) = client.ok(DETAIL, {"orderNoList": [oid]})
    (package,) = after["packageWaybillList"]
    assert package["waybillNo"] == "1ZTEST00000001" and package["productInventoryList"] == [{"productId": goods[0]}]
    assert after["orderStatus"] == 2  # partly shipped: still pending shipment
    again = client.call(path, {"orderNo": oid, "infoList": [
        {"expressCode": "1ZTEST00000002", "expressIdCode": carriers["UPS"], "goodsId": goods[0], "status": 2}]})
    assert "already shipped" in again.json()["msg"]
    records = shein.pushed("tracking")
    assert [r["accepted"] for r in records] == [False, False, True, False]
    assert records[2]["content"]["infoList"][0]["goodsId"] == goods[0]


def test_throttling_is_an_envelope_code():
    clock = SandboxClock(start=START, factor=0)
    with SheinEmulator(clock=clock, orders=20, rate_limits={"orderList": RateLimit(1, 2)}) as shein:
        client = Client(shein)
        codes = [client.listing(START - timedelta(hours=1), START).json()["code"] for _ in range(3)]
        assert codes == ["0", "0", "42900"]
        clock.advance(1)
        assert client.listing(START - timedelta(hours=1), START).json()["code"] == "0"
        assert shein.counters.get("orderList", "throttled") == 1


def test_get_by_token_returns_the_encrypted_secret_key(shein):
    stamp = str(int(time.time() * 1000))
    path = "/open-api/auth/get-by-token"
    headers = {"x-lt-appid": US.app_id, "x-lt-timestamp": stamp,
               "x-lt-signature": sheinsign(US.app_id, US.app_secret, path, stamp)}
    info = requests.post(shein.url + path, json={"tempToken": f"temp-{US.open_key_id}"}, headers=headers).json()["info"]
    assert info["openKeyId"] == US.open_key_id and _decrypt(info["secretKey"], US.app_secret) == US.secret_key_plain
    headers["x-lt-signature"] = sheinsign(US.app_id, "wrong", path, stamp)
    assert requests.post(shein.url + path, json={}, headers=headers).json()["code"] == "40001"


def _decrypt(text: str, app_secret: str) -> str:
    decryptor = Cipher(algorithms.AES(app_secret.encode()[:16]), modes.CBC(b"space-station-default-iv"[:16])).decryptor()
    padded = decryptor.update(base64.b64decode(text)) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    return (unpadder.update(padded) + unpadder.finalize()).decode()


def test_webhook_is_signed_over_the_callback_path_with_encrypted_event_data(shein):
    received: list[tuple[bytes, dict[str, str], str]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, {k.lower(): v for k, v in self.headers.items()}, self.path))
            self.send_response(200)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"true")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        oid = _seller_order(shein)
        url = f"http://127.0.0.1:{server.server_address[1]}/hooks/shein"
        assert shein.send_order_webhook(url, oid) == 200
        assert shein.send_order_webhook(url, oid, forge=True) == 200
    finally:
        server.shutdown()
        server.server_close()
    (good_body, good, path), (_, forged, _) = received
    assert good["x-lt-eventcode"] == "order_push_notice" and good["x-lt-appid"] == US.app_id
    assert good["x-lt-signature"] == sheinsign(US.app_id, US.app_secret, path, good["x-lt-timestamp"],
                                               good["x-lt-signature"][:5])
    assert forged["x-lt-signature"] != sheinsign(US.app_id, US.app_secret, path, forged["x-lt-timestamp"],
                                                 forged["x-lt-signature"][:5])
    event = json.loads(_decrypt(parse_qs(good_body.decode())["eventData"][0], US.app_secret))
    assert event["orderNo"] == oid and event["orderStatus"] == 1
