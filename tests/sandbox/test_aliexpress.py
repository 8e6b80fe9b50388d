"""AliExpress emulator over real HTTP: IOP signing, gateway errors, Pacific times, paging, pushes.

The client here is written from docs/platforms/aliexpress.md on its own (not connectors/aliexpress), so a signing
or envelope mistake cannot hide behind one shared implementation.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from sandbox import RateLimit, SandboxClock
from sandbox.aliexpress.emulator import AliExpressEmulator
from sandbox.aliexpress.shapes import PRODUCT_IDS
from sandbox.core.demo_accounts import ALIEXPRESS_DEMO_ACCOUNTS
from sandbox.core.generator import Status

ACCOUNT = ALIEXPRESS_DEMO_ACCOUNTS[0]
ORDERS = "aliexpress.solution.order.get"
DETAIL = "aliexpress.solution.order.info.get"
STOCK = "aliexpress.solution.batch.product.inventory.update"
FULFIL = "aliexpress.solution.order.fulfill"
# 2025: PDT ends 2025-11-02 09:00 UTC (01:00-02:00 happens twice); PDT starts 2026-03-08 10:00 UTC.
FALL_BACK = datetime(2025, 11, 2, 9, 0, tzinfo=UTC)
SPRING_FORWARD = datetime(2026, 3, 8, 10, 0, tzinfo=UTC)


def call(emulator: AliExpressEmulator, method: str, *, secret: str = ACCOUNT.app_secret,
         session: str = ACCOUNT.access_token, token_param: str = "session", timestamp: int | None = None,
         **business: Any) -> tuple[int, dict[str, Any]]:
    params = {"app_key": ACCOUNT.app_key, "method": method, "sign_method": "sha256", "format": "json",
              "simplify": "false", "timestamp": str(timestamp or int(time.time() * 1000)), token_param: session}
    params.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in business.items()})
    plain = "".join(key + params[key] for key in sorted(params))
    params["sign"] = hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest().upper()
    reply = requests.post(emulator.url + "/sync", data=params, timeout=10)
    return reply.status_code, reply.json()


def result(body: dict[str, Any], method: str) -> dict[str, Any]:
    return body[method.replace(".", "_") + "_response"]["result"]


def list_all(emulator: AliExpressEmulator, **query: Any) -> list[dict[str, Any]]:
    dtos, page = [], 1
    while True:
        _, body = call(emulator, ORDERS, param0={"page_size": 50, "current_page": page, **query})
        found = result(body, ORDERS)
        dtos += found["target_list"]["order_dto"]
        if page >= found["total_page"]:
            return dtos
        page += 1


@pytest.fixture
def aliexpress() -> Any:
    clock = SandboxClock(start=datetime(2026, 3, 2, 12, tzinfo=UTC), factor=0)
    with AliExpressEmulator(clock=clock, orders=300, seed=7) as emulator:
        yield emulator


def test_signature_token_and_timestamp_are_checked(aliexpress):
    status, body = call(aliexpress, ORDERS, secret="not-the-secret", param0={"page_size": 5})
    assert status == 200 and body["code"] == "IncompleteSignature" and body["type"] == "ISV"
    assert body["request_id"]
    _, body = call(aliexpress, ORDERS, session="forged-token", param0={"page_size": 5})
    assert body["code"] == "IllegalAccessToken"
    _, body = call(aliexpress, ORDERS, timestamp=int(time.time() * 1000) - 3_600_000, param0={"page_size": 5})
    assert body["code"] == "InvalidTimestamp"
    assert aliexpress.counters.get(ORDERS, "auth_failures") == 3
    _, body = call(aliexpress, ORDERS, token_param="access_token", param0={"page_size": 5})
    assert result(body, ORDERS)["success"] is True  # many clients send the token as access_token
    _, body = call(aliexpress, "aliexpress.solution.no.such.api")
    assert body["code"] == "InvalidApiName"


def test_throttling_is_api_call_limit_per_method(aliexpress):
    aliexpress.limiter.set_limit(ORDERS, RateLimit(0.001, 1))
    assert result(call(aliexpress, ORDERS, param0={"page_size": 5})[1], ORDERS)["success"]
    status, body = call(aliexpress, ORDERS, param0={"page_size": 5})
    assert status == 200 and body["code"] == "ApiCallLimit" and body["type"] == "ISP"
    some_id = next(iter(aliexpress.orders))
    assert result(call(aliexpress, DETAIL, param1={"order_id": int(some_id)})[1], DETAIL)["success"]
    assert aliexpress.counters.get(ORDERS, "throttled") == 1 and aliexpress.counters.get(DETAIL, "throttled") == 0


def test_page_size_is_capped_and_pages_cover_every_open_order_once(aliexpress):
    refused = result(call(aliexpress, ORDERS, param0={"page_size": 51})[1], ORDERS)
    assert refused["success"] is False and "page_size" in refused["error_message"]
    dtos = list_all(aliexpress)
    seen = Counter(str(d["order_id"]) for d in dtos)
    assert max(seen.values()) == 1
    truth = aliexpress.ground_truth()
    assert set(seen) == {r["id"] for r in truth if r["status"] != "FINISH"}
    finished = list_all(aliexpress, order_status="FINISH")
    assert finished and {str(d["order_id"]) for d in finished} == {r["id"] for r in truth if r["status"] == "FINISH"}
    assert all(d.get("end_reason") for d in finished)


def test_modified_window_is_pacific_and_inclusive(aliexpress):
    truth = [r for r in aliexpress.ground_truth() if r["status"] != "FINISH"]
    pivot = truth[len(truth) // 2]
    moment = datetime.fromisoformat(pivot["updated_at"]).replace(microsecond=0)
    wall = (moment - timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S")  # early March: PST, UTC-8
    exact = list_all(aliexpress, modified_date_start=wall, modified_date_end=wall)
    assert pivot["id"] in {str(d["order_id"]) for d in exact}
    assert all(d["gmt_update"] == wall for d in exact)


def pacific_by_hand(moment: datetime) -> str:
    """US Pacific without zoneinfo: PDT (UTC-7) from 2025-03-09 10:00 UTC until 2025-11-02 09:00 UTC,
    and again from 2026-03-08 10:00 UTC; PST (UTC-8) otherwise."""
    dst = datetime(2025, 3, 9, 10, tzinfo=UTC) <= moment < FALL_BACK or moment >= SPRING_FORWARD
    return (moment - timedelta(hours=7 if dst else 8)).strftime("%Y-%m-%d %H:%M:%S")


@pytest.mark.parametrize("start", [FALL_BACK, SPRING_FORWARD])
def test_times_are_rendered_in_pacific_across_daylight_saving(start):
    clock = SandboxClock(start=start + timedelta(hours=20), factor=0)  # orders span the change
    with AliExpressEmulator(clock=clock, orders=600, seed=5) as emulator:
        dtos = list_all(emulator) + list_all(emulator, order_status="FINISH")
        created = {str(d["order_id"]): d["gmt_create"] for d in dtos}
        assert len(created) == len(emulator.ground_truth())
        for oid, text in created.items():
            assert text == pacific_by_hand(emulator.orders[oid].created_at)
    hours = Counter(text[:13] for text in created.values())
    if start is FALL_BACK:  # the repeated hour holds orders from both of its occurrences
        twice = [emulator.orders[oid].created_at for oid, t in created.items() if t.startswith("2025-11-02 01")]
        assert any(m < FALL_BACK for m in twice) and any(m >= FALL_BACK for m in twice)
    else:  # nothing is ever written inside the skipped hour
        assert hours["2026-03-08 02"] == 0 and hours["2026-03-08 03"] > 0 and hours["2026-03-08 01"] > 0


def test_inventory_batches_beyond_the_limits_are_refused(aliexpress):
    families = sorted(PRODUCT_IDS)
    too_many = [{"product_id": 1005000000000000 + i, "multiple_sku_update_list": [{"sku_code": "X", "inventory": 1}]}
                for i in range(21)]
    refused = result(call(aliexpress, STOCK, mutiple_product_update_list=too_many)[1], STOCK)
    assert refused["success"] is False and refused["error_code"] == "PRODUCT_NUM_EXCEED"
    wide = [{"product_id": PRODUCT_IDS[families[0]],
             "multiple_sku_update_list": [{"sku_code": f"S{i}", "inventory": 1} for i in range(201)]}]
    assert result(call(aliexpress, STOCK, mutiple_product_update_list=wide)[1], STOCK)["error_code"] == "SKU_NUM_EXCEED"
    assert aliexpress.pushed("stock") == []
    mixed = [{"product_id": PRODUCT_IDS["BCB"], "multiple_sku_update_list": [
        {"sku_code": "OH-BCB-S", "inventory": 5}, {"sku_code": "OH-SWB-BLACK", "inventory": 5},
        {"sku_code": "OH-BCB-M", "inventory": -1}]}]
    answer = result(call(aliexpress, STOCK, mutiple_product_update_list=mixed)[1], STOCK)
    assert answer["update_success"] is False
    assert [s["sku_code"] for s in answer["update_successful_list"]] == ["OH-BCB-S"]
    assert {f["sku_code"]: f["error_code"] for f in answer["update_failed_list"]} == {
        "OH-SWB-BLACK": "SKU_NOT_EXIST", "OH-BCB-M": "INVENTORY_INVALID"}
    assert [p["accepted"] for p in aliexpress.pushed("stock")] == [True, False, False]


def test_fulfil_validates_and_ships_the_order(aliexpress):
    now = aliexpress.clock.now()
    ready = next(oid for oid, o in aliexpress.orders.items() if o.state(now).status is Status.READY)
    unpaid = next(oid for oid, o in aliexpress.orders.items() if o.state(now).status is Status.PENDING)
    base = {"out_ref": ready, "send_type": "all", "logistics_no": "1Z999AA10123456784", "service_name": "UPS"}
    for change, code in [({"service_name": "PIGEON"}, "LOGISTICS_SERVICE_INVALID"),
                         ({"service_name": "OTHER"}, "PARAM_ERROR"),
                         ({"send_type": "some"}, "PARAM_ERROR"),
                         ({"logistics_no": " "}, "PARAM_ERROR"),
                         ({"out_ref": unpaid}, "ORDER_STATUS_ERROR"),
                         ({"out_ref": "1"}, "ORDER_NOT_FOUND")]:
        refused = result(call(aliexpress, FULFIL, **{**base, **change})[1], FULFIL)
        assert (refused["success"], refused["error_code"]) == (False, code), change
    ok = result(call(aliexpress, FULFIL, **{**base, "service_name": "OTHER",
                                            "tracking_website": "https://www.17track.net"})[1], FULFIL)
    assert ok["success"] is True
    detail = result(call(aliexpress, DETAIL, param1={"order_id": int(ready)})[1], DETAIL)["data"]
    assert detail["order_status"] == "WAIT_BUYER_ACCEPT_GOODS"
    records = aliexpress.pushed("tracking")
    assert [r["accepted"] for r in records] == [False] * 6 + [True]
    assert records[-1]["content"]["logistics_no"] == "1Z999AA10123456784"
    again = result(call(aliexpress, FULFIL, **base)[1], FULFIL)
    assert again["error_code"] == "ORDER_STATUS_ERROR"  # already shipped in full
