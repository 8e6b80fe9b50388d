"""Warehouse creates happen once: a lost answer or a duplicate refusal is resolved by a lookup."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlsplit

import orjson
import pytest

from config.schema import WarehouseConfig
from connectors.ratelimit import RateLimiter
from connectors.warehouses.fourpx.client import FourPXClient
from connectors.warehouses.shipbob.client import ShipBobClient
from pipeline.errors import NeedsReview
from pipeline.identity import outbound_reference, parse_order_key
from pipeline.model import Address
from pipeline.ports import OutboundLine, OutboundRequest

SERVICE = "/router/api/service"  # 4PX's one endpoint, on the scripted loopback server (`http_server`)
ADDRESS = Address(country="US", name="Ann Example", line1="1 Main St", city="Austin", region="TX",
                  postal_code="78701", phone="5125550100", pii_complete=True)


def request_for(key: str = "amazon:acme-us:112-1", warehouse: str = "wh-1") -> OutboundRequest:
    return OutboundRequest(reference=outbound_reference(key, warehouse), order_key=key, platform="amazon",
                           external_id=parse_order_key(key).external_id, lines=(OutboundLine("MUG-01", 2),), ship_to=ADDRESS,
                           currency="USD")


def test_reference_is_stable_distinct_and_short():
    a = outbound_reference("amazon:acme-us:112-3456789-1234567", "4px-us-nj")
    assert a == outbound_reference("amazon:acme-us:112-3456789-1234567", "4px-us-nj")
    assert a != outbound_reference("amazon:acme-us:112-3456789-1234567", "shipbob-us")
    assert len(a) <= 50 and a.startswith("OH-AMA-112-3456789-1234567")


@pytest.fixture
def fourpx(redis_client, prefix, http_server):
    wh = WarehouseConfig(id="wh-1", kind="fourpx", credentials={}, countries=["US"], base_url=http_server.url,
                         options={"warehouse_code": "USNJ01", "logistics_product_code": "F4PX"})
    return FourPXClient(wh, {"app_key": "k", "app_secret": "s3cret"}, RateLimiter(redis_client, prefix))


def _method(call) -> str:
    return dict(parse_qsl(urlsplit(call.request.url).query))["method"]


def test_fourpx_create_whose_answer_is_lost_is_looked_up_not_repeated(fourpx, http_server):
    req = request_for()
    http_server.post(SERVICE, drop=True)  # create happened, answer lost: the connection closes unanswered
    http_server.post(SERVICE, json={"result": "1", "data": {"page_no": 1, "total": 1, "data": [
        {"ref_no": req.reference, "consignment_no": "OC0001", "status": "S", "outboundlist_sku": []}]}})
    status = fourpx.submit(req)
    assert status.remote_id == "OC0001" and status.state == "OPEN"
    assert [_method(c) for c in http_server.calls] == ["fu.wms.outbound.create", "fu.wms.outbound.getlist"]
    assert http_server.calls[0].response is None  # the create really went unanswered


def test_fourpx_signature_covers_the_exact_body(fourpx, http_server):
    http_server.post(SERVICE, json={"result": "1", "data": {"consignment_no": "OC9"}})
    fourpx.submit(request_for())
    call = http_server.calls[0]
    q = dict(parse_qsl(urlsplit(call.request.url).query))
    head = f"app_keykformatjsonmethod{q['method']}timestamp{q['timestamp']}v1.0".encode()
    assert q["sign"] == hashlib.md5(head + call.request.body + b"s3cret").hexdigest()
    assert orjson.loads(call.request.body)["oconsignment_sku"] == [{"sku_code": "MUG-01", "qty": 2, "stock_quality": "G"}]


def test_fourpx_refusal_that_is_not_a_duplicate_is_reported(fourpx, http_server):
    http_server.post(SERVICE, json={"result": "0", "msg": "fail", "errors": [{"error_code": "W001", "error_msg": "SKU not found"}]})
    http_server.post(SERVICE, json={"result": "1", "data": {"page_no": 1, "total": 0, "data": []}})
    with pytest.raises(NeedsReview, match="SKU not found"):
        fourpx.submit(request_for())


def test_shipbob_duplicate_reference_returns_the_existing_order(redis_client, prefix, http_server):
    wh = WarehouseConfig(id="sb", kind="shipbob", credentials={}, countries=["US"], base_url=http_server.url)
    client = ShipBobClient(wh, {"token": "pat-token", "channel_id": "4321"}, RateLimiter(redis_client, prefix))
    req = request_for(warehouse="sb")
    http_server.post("/1.0/order", status=422, json={"message": f"reference_id {req.reference} already exists"})
    http_server.get("/1.0/order", json=[{"id": 77, "reference_id": req.reference, "status": "Processing",
                                         "shipments": [{"status": "Processing"}], "products": []}])
    status = client.submit(req)
    assert status.remote_id == "77" and status.state == "OPEN"
    assert http_server.calls[0].request.headers["shipbob_channel_id"] == "4321"
    assert len([c for c in http_server.calls if c.request.method == "POST"]) == 1
