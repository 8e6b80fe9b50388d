"""TEMU emulator over real HTTP: signing, regional routers, paging, throttling, pushes, webhooks.

The client here is written from docs/platforms/temu.md, independent of connectors/temu.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections import Counter
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from sandbox import RateLimit
from sandbox.core.demo_accounts import TEMU_DEMO_SHOPS, TemuCredentials
from sandbox.temu.emulator import TemuEmulator
from sandbox.temu.shapes import GOODS_IDS, SKU_IDS
from tests.webhook_sink import webhook_sink

US, EU, GLOBAL = TEMU_DEMO_SHOPS


def temu_sign(params: dict[str, Any], secret: str) -> str:
    pieces = []
    for key in sorted(params):
        value = json.dumps(params[key], ensure_ascii=False, separators=(",", ":"))
        if isinstance(params[key], str):
            value = value.strip('"')
        pieces.append(key + value)
    return hashlib.md5((secret + "".join(pieces) + secret).encode()).hexdigest().upper()


class Client:
    def __init__(self, emulator: TemuEmulator, shop: TemuCredentials) -> None:
        self.emulator, self.shop = emulator, shop
        self.http = requests.Session()

    def call(self, api_type: str, *, host: str | None = None, secret: str | None = None,
             timestamp: int | None = None, **business: Any) -> dict[str, Any]:
        params = {"type": api_type, "app_key": self.shop.app_key, "access_token": self.shop.access_token,
                  "data_type": "JSON", "timestamp": int(time.time()) if timestamp is None else timestamp, **business}
        params["sign"] = temu_sign(params, secret or self.shop.app_secret)
        url = f"{self.emulator.url}/{(host or self.shop.host).lower()}/openapi/router"
        reply = self.http.post(url, json=params)
        assert reply.status_code == 200, reply.text
        return reply.json()


@pytest.fixture
def temu(clock):
    with TemuEmulator(clock=clock, orders=300, seed=7) as emulator:
        yield emulator


def _orders(temu: TemuEmulator, shop: TemuCredentials, **kw: Any):
    now = temu.clock.now()
    return [(sn, o) for sn, o in temu.orders.items() if o.account == shop.mall_id and o.visible(now)
            and all(f(temu.view(o, now)) for f in kw.values())]


def test_wrong_signature_and_stale_timestamp_are_refused(temu):
    client = Client(temu, US)
    good = client.call("bg.order.list.v2.get", pageSize=5)
    assert good["success"] is True and good["errorCode"] == 1000000 and good["requestId"]
    wrong = client.call("bg.order.list.v2.get", pageSize=5, secret="not-the-secret")
    assert (wrong["success"], wrong["errorCode"], wrong["result"]) == (False, 3000001, None)
    stale = client.call("bg.order.list.v2.get", pageSize=5, timestamp=int(time.time()) - 301)
    assert stale["errorCode"] == 3000012
    assert temu.counters.get("bg.order.list.v2.get", "auth_failures") == 2
    assert client.call("bg.no.such.api")["errorCode"] == 3000003


def test_a_shop_calling_another_regions_router_is_refused(temu):
    eu = Client(temu, EU)
    assert eu.call("bg.order.list.v2.get", pageSize=5)["success"]
    wrong_host = eu.call("bg.order.list.v2.get", pageSize=5, host="US")
    assert wrong_host["errorCode"] == 3000031 and not wrong_host["success"]


def test_pages_are_at_most_100_and_cover_every_order_once_newest_first(temu):
    client = Client(temu, US)
    assert client.call("bg.order.list.v2.get", pageSize=101)["errorCode"] == 3000000
    seen, times, page = Counter(), [], 1
    while True:
        result = client.call("bg.order.list.v2.get", pageNumber=page, pageSize=9, sortby="updateTime")["result"]
        for item in result["pageItems"]:
            seen[item["parentOrderMap"]["parentOrderSn"]] += 1
            times.append(item["parentOrderMap"]["updateTime"])
        if page * 9 >= result["totalItemNum"]:
            break
        page += 1
    truth = {r["id"] for r in temu.ground_truth() if r["account"] == US.mall_id}
    assert page > 2 and set(seen) == truth and max(seen.values()) == 1
    assert result["totalItemNum"] == len(truth)
    assert times == sorted(times, reverse=True)


def test_update_window_and_status_filter(temu):
    client = Client(temu, US)
    every = client.call("bg.order.list.v2.get", pageSize=100, sortby="updateTime")["result"]["pageItems"]
    pivot = every[len(every) // 2]["parentOrderMap"]["updateTime"]
    since = client.call("bg.order.list.v2.get", pageSize=100, updateAtStart=pivot)["result"]["pageItems"]
    assert since and all(i["parentOrderMap"]["updateTime"] >= pivot for i in since)
    shipped = client.call("bg.order.list.v2.get", pageSize=100, parentOrderStatus=4)["result"]["pageItems"]
    assert shipped and {i["parentOrderMap"]["parentOrderStatus"] for i in shipped} == {4}
    assert client.call("bg.order.list.v2.get", updateAtStart=int(time.time() * 1000))["errorCode"] == 140020014


def test_list_has_children_and_local_or_semi_sku_ids_but_no_address_or_money(temu):
    us = Client(temu, US).call("bg.order.list.v2.get", pageSize=20)["result"]["pageItems"]
    child = us[0]["orderList"][0]
    assert child["skuId"] and "productSkuId" not in child["productList"][0]
    assert child["productList"][0]["extCode"].startswith("OH-")
    assert child["quantity"] == child["originalOrderQuantity"] - child["canceledQuantityBeforeShipment"]
    eu = Client(temu, EU).call("bg.order.list.v2.get", pageSize=20)["result"]["pageItems"]
    semi = eu[0]["orderList"][0]
    assert "skuId" not in semi and semi["productList"][0]["productSkuId"]
    text = json.dumps(us + eu)
    assert "receiptName" not in text and "amount" not in text and "addressLine1" not in text


def test_address_refused_while_pending_and_money_in_minor_units(temu):
    client = Client(temu, GLOBAL)
    now = temu.clock.now()
    sn, order = min(((sn, o) for sn, o in temu.orders.items() if o.account == GLOBAL.mall_id
                     and o.created_at > now), key=lambda pair: pair[1].created_at)
    temu.clock.advance((order.created_at - now).total_seconds() + 1)
    assert temu.view(order, temu.clock.now()).status == 1
    refused = client.call("bg.order.shippinginfo.v2.get", parentOrderSn=sn)
    assert refused["errorCode"] == 2000000 and "pending" in refused["errorMsg"]
    amount = client.call("bg.order.amount.query", parentOrderSn=sn)["result"]["parentOrderMap"]
    paid = amount["customerPaid"]
    assert isinstance(paid["amount"], int)
    expected = order.total() if order.currency == "JPY" else order.total() * 100
    assert paid == {"currency": order.currency, "amount": int(expected)}


def test_throttling_is_4000004_in_http_200_and_shared_across_types(clock):
    with TemuEmulator(clock=clock, orders=30, rate_limits={"router": RateLimit(1, 2)}) as temu:
        client = Client(temu, US)
        first = client.call("bg.order.list.v2.get", pageSize=5)
        second = client.call("bg.logistics.companies.get")
        third = client.call("bg.logistics.warehouse.list.get")
        assert first["success"] and second["success"]
        assert (third["success"], third["errorCode"]) == (False, 4000004)
        clock.advance(1)
        assert client.call("bg.order.list.v2.get", pageSize=5)["success"]
        assert temu.counters.get("bg.logistics.warehouse.list.get", "throttled") == 1


def test_stock_edit_is_idempotent_by_request_unique_key(temu):
    client = Client(temu, US)
    goods, sku = GOODS_IDS["BCB"], SKU_IDS["OH-BCB-S"]
    body = {"goodsId": goods, "stockType": 0, "skuStockTargetList": [{"skuId": sku, "stockTarget": 7}],
            "requestUniqueKey": "push-1"}
    assert client.call("bg.local.goods.stock.edit", **body)["success"]
    assert client.call("bg.local.goods.stock.edit", **body)["success"]
    assert len(temu.pushed("stock")) == 1
    other = client.call("bg.local.goods.stock.edit", **{**body, "skuStockTargetList": [{"skuId": sku, "stockTarget": 9}]})
    assert other["errorCode"] == 3000000
    skus = client.call("bg.local.goods.sku.list.query", goodsId=goods)["result"]["skuList"]
    assert {s["skuId"]: s["stock"] for s in skus}[sku] == 7
    foreign = client.call("bg.local.goods.stock.edit", **{**body, "requestUniqueKey": "push-2",
                          "skuStockTargetList": [{"skuId": SKU_IDS["OH-YGM-GREY"], "stockTarget": 1}]})
    assert not foreign["success"]
    assert not Client(temu, EU).call("bg.local.goods.stock.edit", **body)["success"]  # SEMI: TEMU manages stock


def test_shipment_confirm_ships_children_and_a_tracking_number_works_once(temu):
    client = Client(temu, US)
    now = temu.clock.now()
    sn, order = next((sn, o) for sn, o in _orders(temu, US, ready=lambda v: v.status == 2)
                     if not o.platform_fulfilled and len(o.lines) > 1)
    item = client.call("bg.order.detail.v2.get", parentOrderSn=sn)["result"]
    carriers = client.call("bg.logistics.companies.get")["result"]["logisticsServiceProviderList"]
    warehouse = client.call("bg.logistics.warehouse.list.get")["result"]["warehouseList"][0]["warehouseId"]
    child = item["orderList"][0]
    package = {"carrierId": carriers[0]["logisticsServiceProviderId"], "trackingNumber": "1ZTEMU0001",
               "selfShippingWarehouseId": warehouse,
               "orderSendInfoList": [{"parentOrderSn": sn, "orderSn": child["orderSn"], "goodsId": child["goodsId"],
                                      "skuId": child["skuId"], "quantity": child["quantity"]}]}
    assert client.call("bg.logistics.shipment.v2.confirm", sendType=0, sendRequestList=[package])["success"]
    again = client.call("bg.logistics.shipment.v2.confirm", sendType=0, sendRequestList=[package])
    assert again["errorCode"] == 2000101 and "already been used" in again["errorMsg"]
    wrong_sku = {**package, "trackingNumber": "1ZTEMU0002",
                 "orderSendInfoList": [{**package["orderSendInfoList"][0], "skuId": "1"}]}
    assert not client.call("bg.logistics.shipment.v2.confirm", sendType=0, sendRequestList=[wrong_sku])["success"]
    after = client.call("bg.order.detail.v2.get", parentOrderSn=sn)["result"]
    assert after["parentOrderMap"]["parentOrderStatus"] == 41
    assert after["orderList"][0]["orderStatus"] == 4 and after["orderList"][1]["orderStatus"] == 2
    assert after["parentOrderMap"]["updateTime"] == int(now.timestamp())
    assert [r["accepted"] for r in temu.pushed("tracking")] == [True, False, False]


def test_webhook_is_encrypted_and_signed_like_temus_java_sample(temu):
    with webhook_sink() as (base, received):
        sn = next(r["id"] for r in temu.ground_truth() if r["account"] == US.mall_id)
        assert temu.send_order_webhook(f"{base}/hook", sn) == 200
        assert temu.send_order_webhook(f"{base}/hook", sn, forge=True) == 200
    signatures = []
    for delivery in received:
        body, headers = delivery.body, delivery.headers
        key = US.app_secret.encode()[:16]
        decryptor = Cipher(algorithms.AES(key), modes.CBC(key)).decryptor()
        padded = decryptor.update(base64.b64decode(json.loads(body)["eventData"])) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        plain = (unpadder.update(padded) + unpadder.finalize()).decode()
        assert json.loads(plain)["parentOrderSn"] == sn
        assert headers["x-tm-event-code"] == "bg_order_status_change_event"
        signed = {"eventData": plain, **{h: headers[h] for h in
                                         ("x-tm-app-key", "x-tm-event-code", "x-tm-timestamp", "x-tm-ext-param")}}
        message = "&".join(f"{k}={signed[k]}" for k in sorted(signed))
        expected = hmac.new(US.app_secret.encode(), message.encode(), hashlib.sha256).hexdigest().upper()
        signatures.append(headers["x-tm-signature"] == expected)
    assert signatures == [True, False]
