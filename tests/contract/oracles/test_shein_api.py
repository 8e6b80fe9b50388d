"""`shein-api` 0.0.7 (import `shein_api`, a third party's Python wrapper of the SHEIN Open Platform) run over
HTTP against the SHEIN emulator, on every call the connector makes that the library offers.

The emulator and `connectors/shein` were written from one reading of SHEIN's documentation; this library was
not, so where it and the emulator agree (signing, paths, parameter names, answers) two readings agree.

How the library is pointed at the emulator: `SheinClient(open_key_id, secret_key)` defaults to
`env='development'`, which its `BaseClient.__init__` turns into SHEIN's test host
(https://openapi-test01.sheincorp.cn) whatever the shop type, so each test sets `client.base_url` to the
emulator's URL after construction.

Library faults, each worked around here and never in the emulator (docs/platforms/shein.md):
1. Every POST body goes out form-encoded (`requests.request(..., data=dict)`) under its own
   `content-type: application/json;charset=UTF-8`; SHEIN takes a JSON body (SHEIN's own SDK,
   https://github.com/sheinsight/open-sdk-js, `src/open-request.ts`, sends the body as JSON). The emulator
   checks the signature, then refuses the body; `test_form_bodies_are_signed_right_but_refused` shows both.
   Everywhere else the `json_bodies` fixture swaps the library's transport for one that sends the same dict
   as JSON, so the library's own paths, parameter names, signer and answer handling all still run.
2. `warehouse.change_inventory` builds `updateSkuInventoryQuantityRequests` as one object (with
   `skuCodeList`/`warehouseCodeList` keys) where SHEIN takes a list of 1 to 100 `{skuCode, warehouseCode,
   saleInventory | changeInventoryQuantity}` entries. The test shows the emulator refuses the library's body,
   then signs with the library's own signer (`generate_headers`) and sends the documented list itself.
3. Its signer `print`s every signature to stdout: each library call goes through the `quiet` fixture, which
   drains pytest's capture (capsys) right away, so no signature reaches a report or a CI log. Its module
   logger also logs whole answers (buyer addresses) at DEBUG: disabled for these tests.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import pytest
import requests

from sandbox.core.demo_accounts import SHEIN_DEMO_SHOPS
from sandbox.shein.webhook import build_webhook
from tests.contract.harness import HARNESSES

pytest.importorskip("shein_api")  # a dev dependency
from shein_api import SheinClient  # noqa: E402
from shein_api.base import base_client, crypto  # noqa: E402
from shein_api.base.helpers import get_signature  # noqa: E402

SHOP = SHEIN_DEMO_SHOPS[0]
HARNESS = HARNESSES["shein"]
UTC8 = timezone(timedelta(hours=8))
TRACKING = "1Z999AA10123456784"
CHANGE_INVENTORY = "/open-api/gsp/goods/change-inventory"


@pytest.fixture
def quiet(capsys, monkeypatch):
    """Runs one library call and drops what it printed (its signer prints each signature, fault 3)."""
    monkeypatch.setattr(logging.getLogger(base_client.__name__), "disabled", True)

    def run(call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        finally:
            capsys.readouterr()

    return run


@pytest.fixture
def json_bodies(monkeypatch):
    """Workaround for fault 1: the library's transport, sending the same body dict as JSON, not as a form."""

    def send(method, url, data=None, params=None, headers=None):
        if data is not None:
            return requests.request(method, url, data=json.dumps(data).encode(), headers=headers, timeout=10)
        return requests.request(method, url, params=params, headers=headers, timeout=10)

    monkeypatch.setattr(base_client, "request", send)


@pytest.fixture
def emulator():
    with HARNESS.emulator(orders=60) as running:
        yield running


def library_client(url: str, secret_key: str | None = None) -> SheinClient:
    """The library's client for the demo seller, its secret key decrypted by the library's own AES helper
    from the form SHEIN delivers it in (encrypted with the app secret)."""
    plain = secret_key or crypto.decrypt(SHOP.secret_key, SHOP.app_secret)
    client = SheinClient(SHOP.open_key_id, plain)
    client.base_url = url
    return client


def utc8(moment: datetime) -> str:
    return moment.astimezone(UTC8).strftime("%Y-%m-%d %H:%M:%S")


def seller_ships(emulator, statuses=(1, 2)) -> list[str]:
    """Orders still the seller's to ship, in the given statuses."""
    rows = emulator.ground_truth()
    return [r["id"] for r in rows if r["status"] in statuses and r["performance_type"] == 1]


def status_of(emulator, order_no: str) -> int:
    return next(r["status"] for r in emulator.ground_truth() if r["id"] == order_no)


def test_secret_key_decrypts_and_webhooks_read_with_the_library_crypto(quiet):
    """The library's AES-128-CBC (key: the app secret's first 16 bytes; IV: "space-station-de") decrypts the
    demo secret key as get-by-token delivers it and a webhook's eventData, and its signer reproduces the
    webhook's x-lt-signature (app id and app secret over the callback path) but not a forged one. Sources:
    SHEIN's SDK https://github.com/sheinsight/open-sdk-js (`src/utils/aes-util.ts` for the IV,
    `src/decrypt-secret-key.ts`, `src/decrypt-event-data.ts`, `src/utils/signature.ts`). Which key encrypts
    eventData is the emulator's and connector's reading (the app secret); SHEIN's SDK does not name it."""
    assert crypto.decrypt(SHOP.secret_key, SHOP.app_secret) == SHOP.secret_key_plain
    event = {"orderNo": "GSH1", "orderStatus": 2, "updateTime": "2026-03-02 20:00:00"}
    url = "https://hooks.example.test/shein/orders"
    body, headers = build_webhook(SHOP, url, event)
    cipher = parse_qs(body.decode())["eventData"][0]
    assert json.loads(crypto.decrypt(cipher, SHOP.app_secret)) == event
    signature = headers["x-lt-signature"]
    assert quiet(get_signature, SHOP.app_id, SHOP.app_secret, "/shein/orders", headers["x-lt-timestamp"],
                 signature[:5]) == signature
    _, forged = build_webhook(SHOP, url, event, forge=True)
    assert quiet(get_signature, SHOP.app_id, SHOP.app_secret, "/shein/orders", forged["x-lt-timestamp"],
                 forged["x-lt-signature"][:5]) != forged["x-lt-signature"]


FORM_CALLS = {
    "orderList": lambda c, e: c.order.order_list(2, "2026-03-01 00:00:00", "2026-03-02 20:00:00", 1, 30),
    "orderDetail": lambda c, e: c.order.order_detail([e.ground_truth()[0]["id"]]),
    "exportAddress": lambda c, e: c.order.export_address(seller_ships(e)[0], 1),
    "stockQuery": lambda c, e: c.warehouse.stock_query([e.stock_listings()[0]["platform_sku"]],
                                                       None, None, "2"),
    "changeInventory": lambda c, e: c.warehouse.change_inventory(e.stock_listings()[0]["platform_sku"],
                                                                 sale_inventory=5, warehouse_code="PS1"),
    "importExpress": lambda c, e: c.order.import_batch_channel_express(orderNo=seller_ships(e)[0], infoList=[
        {"expressCode": TRACKING, "expressIdCode": "1001", "goodsId": 1, "status": 2}]),
}


@pytest.mark.parametrize("operation", sorted(FORM_CALLS))
def test_form_bodies_are_signed_right_but_refused(emulator, quiet, operation):
    """Fault 1 unpatched: the library's own request, signed by it, passes the emulator's signature check
    (x-lt-openKeyId, x-lt-timestamp in ms, x-lt-signature = randomKey + Base64(hex HMAC-SHA256(secretKey +
    randomKey, "openKeyId&timestamp&path"))), and its form-encoded body is then refused in SHEIN's envelope:
    a string `code` other than "0", `msg`, `info` null, `traceId`. Sources: SHEIN's SDK
    https://github.com/sheinsight/open-sdk-js (`src/utils/signature.ts`; JSON bodies in `src/open-request.ts`;
    the `{code, msg, info, traceId}` answer, code "0" = success, in `src/types.ts`)."""
    answer = quiet(FORM_CALLS[operation], library_client(emulator.url), emulator)
    assert emulator.counters.get(operation, "calls") == 1
    assert emulator.counters.get(operation, "auth_failures") == 0
    assert isinstance(answer["code"], str) and answer["code"] != "0"
    assert answer["msg"] and answer["info"] is None and answer["traceId"]
    assert not [p for p in emulator.pushed() if p["accepted"]]  # nothing the refused body asked for happened


def test_a_wrong_secret_key_is_refused(emulator, quiet, json_bodies):
    """Negative control for the signing tests: the same library call signed with another secret key is an
    authentication failure, not an answer. Source: the signature recipe in SHEIN's SDK
    https://github.com/sheinsight/open-sdk-js `src/utils/signature.ts` (the key is secretKey + randomKey)."""
    client = library_client(emulator.url, secret_key=SHOP.secret_key_plain[::-1])
    answer = quiet(client.order.order_list, 2, "2026-03-01 00:00:00", "2026-03-02 20:00:00", 1, 30)
    assert answer["code"] != "0" and answer["info"] is None
    assert emulator.counters.get("orderList", "auth_failures") == 1


def test_order_list_pages_match_the_emulator(emulator, quiet, json_bodies):
    """order-list through the library (queryType 2 = by update time, UTC+8 "yyyy-MM-dd HH:mm:ss" bounds at
    most 48 h apart, page from 1, pageSize 1 to 30) lists exactly the seller's orders updated in the window.
    Sources: the library's `Orders.order_list` docstring (SHEIN's parameter table); Hemi, "Shein Get Orders",
    https://help.useresponse.com/hemi/knowledge-base/article/marketplaces-shein-shein-order-management-shein-get-orders_1
    (48 hours)."""
    client = library_client(emulator.url)
    end = emulator.clock.now().replace(microsecond=0)
    start = end - timedelta(hours=48)
    listed, page, count = [], 1, None
    while count is None or len(listed) < count:
        answer = quiet(client.order.order_list, 2, utc8(start), utc8(end), page, 30)
        assert answer["code"] == "0", answer["msg"]
        count = answer["info"]["count"]
        rows = answer["info"]["orderList"]
        assert rows and all(isinstance(row["orderStatus"], str) for row in rows)
        listed += [row["orderNo"] for row in rows]
        page += 1
    expected = {r["id"] for r in emulator.ground_truth()
                if start <= datetime.fromisoformat(r["updated_at"]).replace(microsecond=0) <= end}
    assert len(listed) == count and set(listed) == expected
    assert page > 2  # more than one page, so paging itself was exercised


def test_order_detail_answers_every_number_asked(emulator, quiet, json_bodies):
    """order-detail through the library (`orderNoList`, at most 30) answers one entry per visible order, with
    an integer `orderStatus` and one goods row per unit (integer `goodsId`). Sources: the library's
    `Orders.order_detail` docstring; easycb/easycb-go `shein/model_order.go`
    (https://github.com/easycb/easycb-go/blob/main/shein/model_order.go)."""
    numbers = [r["id"] for r in emulator.ground_truth()][:30]
    answer = quiet(library_client(emulator.url).order.order_detail, numbers)
    assert answer["code"] == "0", answer["msg"]
    assert {o["orderNo"] for o in answer["info"]} == set(numbers)
    for order in answer["info"]:
        goods = order["orderGoodsInfoList"]
        assert isinstance(order["orderStatus"], int)
        assert order["orderStatus"] == status_of(emulator, order["orderNo"])
        assert goods and all(isinstance(g["goodsId"], int) for g in goods)


def test_export_address_reads_then_acknowledges(emulator, quiet, json_bodies):
    """export-address through the library: handleType 1 only exports the receiver; 2 also moves the order from
    1 (pending processing) to 2 (pending shipment). Source: the library's `Orders.export_address` docstring
    ("1：仅导出收件人地址信息 / 2：导出收件人地址并将订单状态流转到待发货，即订单状态值从 "1" 更改为 "2"")."""
    client = library_client(emulator.url)
    order_no = seller_ships(emulator, statuses=(1,))[0]
    exported = quiet(client.order.export_address, order_no, 1)
    assert exported["code"] == "0", exported["msg"]
    (entry,) = exported["info"]["receiveMsgList"]
    assert entry["orderNo"] == order_no and entry["firstName"] and entry["country"]
    assert status_of(emulator, order_no) == 1
    acknowledged = quiet(client.order.export_address, order_no, 2)
    assert acknowledged["code"] == "0" and acknowledged["info"]["receiveMsgList"] == [entry]
    assert status_of(emulator, order_no) == 2


def test_warehouse_list_works_unpatched(emulator, quiet):
    """GET /open-api/msc/warehouse/list through the library as it is (a GET sends no body, so fault 1 does
    not apply): the seller's warehouse codes. Source: Hemi, "Shein Stock Update" (sample answer
    `{code: "0", msg: "OK", info: {list: [{warehouseCode, warehouseName, saleCountryList, ...}]}}`),
    https://help.useresponse.com/hemi/knowledge-base/article/marketplaces-shein-shein-product-management-shein-stock-update_1"""
    answer = quiet(library_client(emulator.url).warehouse.warehouse_list)
    assert answer["code"] == "0", answer["msg"]
    assert [w["warehouseCode"] for w in answer["info"]["list"]] == [emulator.warehouse_code(SHOP.open_key_id)]
    assert answer["info"]["list"][0]["saleCountryList"] == list(SHOP.countries)


def test_change_inventory_takes_the_documented_list_not_the_library_object(emulator, quiet, json_bodies):
    """Fault 2: the library's change-inventory body (one object) is refused and changes nothing; the
    documented body, a list of `{skuCode, warehouseCode, saleInventory}` (1 to 100 entries, exactly one of
    saleInventory and changeInventoryQuantity), signed by the library's own `generate_headers`, sets the
    level. Sources: Hemi, "Shein Stock Update" (per warehouse, up to 100 SKUs a payload),
    https://help.useresponse.com/hemi/knowledge-base/article/marketplaces-shein-shein-product-management-shein-stock-update_1;
    the library's `Warehouse.change_inventory` docstring (the two quantities, "只能填写一个")."""
    client = library_client(emulator.url)
    sku = emulator.stock_listings()[0]["platform_sku"]
    warehouse = emulator.warehouse_code(SHOP.open_key_id)
    refused = quiet(client.warehouse.change_inventory, sku, sale_inventory=7, warehouse_code=warehouse)
    assert refused["code"] != "0" and refused["info"] is None
    assert sku not in emulator.stock_levels()
    entries = [{"skuCode": sku, "warehouseCode": warehouse, "saleInventory": 7}]
    headers = quiet(client.generate_headers, CHANGE_INVENTORY)
    answer = requests.post(client.base_url + CHANGE_INVENTORY, headers=headers, timeout=10,
                           data=json.dumps({"updateSkuInventoryQuantityRequests": entries})).json()
    assert answer["code"] == "0", answer["msg"]
    assert answer["info"] == {"successList": [{"skuCode": sku}], "failedList": []}
    assert emulator.stock_levels()[sku] == 7
    assert emulator.counters.get("changeInventory", "auth_failures") == 0


def test_stock_query_reads_back_the_level(emulator, quiet, json_bodies):
    """stock-query through the library (`skuCodeList` of at most 100, `warehouseType` "2" = the virtual stock
    of self-operated / semi-managed sellers) reads the usable units per warehouse. Source: the library's
    `Warehouse.stock_query` docstring (SHEIN's parameter table)."""
    sku = emulator.stock_listings()[1]["platform_sku"]
    emulator.stock[(SHOP.open_key_id, sku)] = 12  # the level an accepted change-inventory would have left
    answer = quiet(library_client(emulator.url).warehouse.stock_query, [sku], None, None, "2")
    assert answer["code"] == "0", answer["msg"]
    (found,) = [s for group in answer["info"] for goods in group["goodsInventory"] for s in goods["skuList"]]
    assert found["skuCode"] == sku
    assert found["warehouseInventoryList"] == [{"warehouseCode": emulator.warehouse_code(SHOP.open_key_id),
                                                "inventoryQuantity": 12, "lockedQuantity": 0,
                                                "usableInventory": 12, "tempLockQuantity": 0}]


def test_express_channel_works_unpatched(emulator, quiet):
    """express-channel through the library as it is (its body is empty, so fault 1 does not bite): the
    carriers tracking may name. Source: Hemi, "Shein Ship Orders",
    https://help.useresponse.com/hemi/knowledge-base/article/marketplaces-shein-shein-order-management-shein-ship-orders_1"""
    answer = quiet(library_client(emulator.url).order.export_channel)
    assert answer["code"] == "0", answer["msg"]
    assert {c["expressName"] for c in answer["info"]} >= {"UPS", "USPS", "DHL"}
    assert all(c["expressIdCode"] for c in answer["info"])


def test_import_express_ships_every_unit_named(emulator, quiet, json_bodies):
    """import-batch-multiple-express through the library: one `infoList` entry per goodsId (tracking is per
    unit) with a carrier from express-channel ships those units. Source: Hemi, "Shein Ship Orders",
    https://help.useresponse.com/hemi/knowledge-base/article/marketplaces-shein-shein-order-management-shein-ship-orders_1"""
    client = library_client(emulator.url)
    order_no = seller_ships(emulator)[0]
    (detail,) = quiet(client.order.order_detail, [order_no])["info"]
    carriers = quiet(client.order.export_channel)["info"]
    carrier = next(c["expressIdCode"] for c in carriers if c["expressName"] == "UPS")
    entries = [{"expressCode": TRACKING, "expressIdCode": carrier, "goodsId": goods["goodsId"], "status": 2}
               for goods in detail["orderGoodsInfoList"]]
    answer = quiet(client.order.import_batch_channel_express, orderNo=order_no, infoList=entries)
    assert answer["code"] == "0", answer["msg"]
    (push,) = emulator.pushed("tracking")
    assert push["accepted"] and push["content"]["orderNo"] == order_no
    assert status_of(emulator, order_no) == 4  # every unit named: shipped
