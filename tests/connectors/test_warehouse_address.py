"""How the ShipBob client reads the answers of `:updateAddress` that the emulator never gives.

Documented answers (https://developer.shipbob.com/api/orders/update-shipment-address): 200 with
`Orders.ShipmentApiResponse {id, is_success, error{code, message}}`, 400 with `Orders.ErrorResponse
{code, message}`, codes among INVALID_PARAMETER, VALIDATION_ERROR, NOT_FOUND, CONFLICT, ... Applied
only on `is_success: true`; throttling and auth go as on every other call (rate limit:
https://developer.shipbob.com/rate-limit).
"""

from __future__ import annotations

import orjson
import pytest

from config.schema import WarehouseConfig
from connectors.ratelimit import RateLimiter
from connectors.warehouses.outbound import without_buyer_data
from connectors.warehouses.shipbob.client import ShipBobClient
from pipeline.errors import AuthenticationFailed
from pipeline.model import Address

ORDERS = "/2026-01/order"  # paths on the scripted loopback server (the `http_server` fixture)
UPDATE = "/2026-01/shipment/700:updateAddress"
NEW = Address(country="US", name="Ann Example", line1="9 Elm Rd", line2="Apt 4", city="Dallas", region="TX",
              postal_code="75201", phone="5125550100", email="ann@example.com", pii_complete=True)


def order(address1: str = "1 Main St", status: str = "Processing") -> list[dict]:
    recipient = {"name": "Ann Example", "address": {"address1": address1, "address2": "", "city": "Austin",
                                                    "state": "TX", "zip_code": "78701", "country": "US"}}
    return [{"id": 70, "reference_id": "R1", "recipient": recipient,
             "shipments": [{"id": 700, "status": status, "recipient": recipient}]}]


@pytest.fixture
def client(redis_client, prefix, http_server):
    wh = WarehouseConfig(id="sb", kind="shipbob", credentials={}, countries=["US"], base_url=http_server.url,
                         options={"rate_limit": "50"})
    return ShipBobClient(wh, {"token": "pat-token", "channel_id": "4321"}, RateLimiter(redis_client, prefix))


def test_the_body_is_update_address_request_and_is_success_applies(client, http_server):
    http_server.get(ORDERS, json=order())
    http_server.put(UPDATE, json={"id": 700, "is_success": True, "error": None})
    update = client.update_address("R1", NEW)
    assert update.applied and update.state == "OPEN"
    body = orjson.loads(http_server.calls[1].request.body)
    assert body == {"recipient_name": "Ann Example", "company_name": "", "street_address1": "9 Elm Rd",
                    "street_address2": "Apt 4", "city": "Dallas", "state": "TX", "zip_code": "75201",
                    "country_code": "US", "phone_number": "5125550100", "email": "ann@example.com"}
    assert http_server.calls[1].request.headers["Authorization"] == "Bearer pat-token"


def test_a_400_refusal_is_reported_in_shipbobs_words_without_buyer_data(client, http_server):
    http_server.get(ORDERS, json=order())
    http_server.put(UPDATE, status=400, json={"code": "VALIDATION_ERROR",
                                              "message": "Address 9 ELM RD for Ann Example is not deliverable"})
    update = client.update_address("R1", NEW)
    assert (update.applied, update.state) == (False, "OPEN")
    assert update.detail == "VALIDATION_ERROR: Address [buyer data] for [buyer data] is not deliverable"
    assert len([c for c in http_server.calls if c.request.method == "PUT"]) == 1  # a refusal is not retried


def test_a_success_answer_without_is_success_is_not_taken_for_one(client, http_server):
    http_server.get(ORDERS, json=order())
    http_server.put(UPDATE, json={"id": 700})
    update = client.update_address("R1", NEW)
    assert not update.applied and "not confirmed" in update.detail


def test_a_refusal_whose_address_shipbob_already_holds_counts_as_applied(client, http_server):
    """The first attempt went through, its answer was lost, and the shipment was picked before the retry."""
    http_server.get(ORDERS, json=order())
    http_server.put(UPDATE, json={"id": 700, "is_success": False, "error": {"code": "CONFLICT", "message": "picked"}})
    held = order("9 Elm Rd", "Processing")
    held[0]["shipments"][0]["recipient"]["address"] |= {"address2": "Apt 4", "city": "Dallas", "zip_code": "75201"}
    held[0]["shipments"][0]["status_details"] = [{"id": 100, "name": "Picked"}]
    http_server.get(ORDERS, json=held)
    update = client.update_address("R1", NEW)
    assert (update.applied, update.state) == (True, "PICKED")


def test_throttling_is_waited_out_like_every_other_call(client, http_server):
    http_server.get(ORDERS, json=order())
    http_server.put(UPDATE, status=429, json={"statusCode": 429, "message": "Rate limit is exceeded."},
                    headers={"x-retry-after": "0"})
    http_server.put(UPDATE, json={"id": 700, "is_success": True})
    assert client.update_address("R1", NEW).applied
    assert [c.response.status_code for c in http_server.calls if c.request.method == "PUT"] == [429, 200]


def test_refused_credentials_raise_as_on_every_other_call(client, http_server):
    http_server.get(ORDERS, json=order())
    http_server.put(UPDATE, status=401, json={"message": "Authorization has been denied for this request."})
    with pytest.raises(AuthenticationFailed):
        client.update_address("R1", NEW)


def test_an_address_without_street_or_city_is_not_sent(client, http_server):
    http_server.get(ORDERS, json=order())
    update = client.update_address("R1", Address(country="US", name="Ann Example", postal_code="75201"))
    assert not update.applied and update.detail.startswith("not sent:")
    assert [c.request.method for c in http_server.calls] == ["GET"]


def test_buyer_data_is_cut_from_a_message_whole_and_word_by_word():
    text = "recipient EXAMPLE, ann at 9 elm rd (phone 5125550100) rejected"
    assert without_buyer_data(text, NEW) == "recipient [buyer data], [buyer data] at [buyer data] " \
                                            "(phone [buyer data]) rejected"
