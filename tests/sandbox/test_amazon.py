"""Amazon SP-API emulator over real HTTP: auth, paging, the 2-minute rule, throttling, PII, items."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
import requests

from sandbox import AmazonEmulator, RateLimit
from sandbox.amazon.shapes import iso
from tests.sandbox.conftest import US_MARKETPLACE, AmazonClient

UNAUTHORIZED = {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied.",
                            "details": "The access token you provided is revoked, malformed or invalid."}]}
QUOTA = {"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.",
                     "details": ""}]}


def _list_all(client: AmazonClient, size: int = 100, **filters) -> list[dict]:
    query = {"MarketplaceIds": US_MARKETPLACE, "MaxResultsPerPage": size, **filters}
    orders, pages = [], 0
    while True:
        reply = client.get("/orders/v0/orders", **query)
        assert reply.status_code == 200, reply.text
        payload = reply.json()["payload"]
        orders += payload["Orders"]
        pages += 1
        if "NextToken" not in payload:
            return orders
        query = {"MarketplaceIds": US_MARKETPLACE, "NextToken": payload["NextToken"]}
        assert pages < 100


def test_lwa_refresh_grant_and_its_failures(amazon):
    creds = AmazonClient(amazon).creds
    form = {"grant_type": "refresh_token", "refresh_token": creds.refresh_token, "client_id": creds.client_id,
            "client_secret": creds.client_secret}
    ok = amazon_post(amazon, form)
    assert ok.status_code == 200 and ok.json()["access_token"].startswith("Atza|") and ok.json()["expires_in"] == 3600
    bad_secret = amazon_post(amazon, {**form, "client_secret": "wrong"})
    assert bad_secret.status_code == 401
    assert bad_secret.json() == {"error_description": "Client authentication failed", "error": "invalid_client"}
    bad_refresh = amazon_post(amazon, {**form, "refresh_token": "Atzr|nope"})
    assert bad_refresh.status_code == 400 and bad_refresh.json()["error"] == "invalid_grant"
    assert amazon.counters.get("lwaToken", "auth_failures") == 2


def amazon_post(amazon, form):
    return requests.post(amazon.url + "/auth/o2/token", data=form)


def test_missing_bad_and_expired_tokens_are_403(clock):
    with AmazonEmulator(clock=clock, orders=20, token_lifetime=60) as amazon:
        client = AmazonClient(amazon)
        missing = client.http.get(amazon.url + "/orders/v0/orders", params={"MarketplaceIds": US_MARKETPLACE})
        assert missing.status_code == 403
        assert missing.json() == {"errors": [{"code": "MissingAuthenticationToken",
                                              "message": "Access to requested resource is denied."}]}
        bad = client.get("/orders/v0/orders", token="Atza|forged", MarketplaceIds=US_MARKETPLACE)
        assert bad.status_code == 403 and bad.json() == UNAUTHORIZED
        clock.advance(61)
        expired = client.get("/orders/v0/orders", MarketplaceIds=US_MARKETPLACE, CreatedAfter="2025-01-01T00:00:00Z")
        assert expired.status_code == 403 and expired.json() == UNAUTHORIZED
        assert amazon.counters.get("getOrders", "auth_failures") == 3


def test_paging_covers_every_order_exactly_once(amazon):
    client = AmazonClient(amazon)
    orders = _list_all(client, size=7, LastUpdatedAfter="2024-01-01T00:00:00Z")
    seen = Counter(o["AmazonOrderId"] for o in orders)
    assert seen and max(seen.values()) == 1
    cutoff = iso(amazon.clock.now() - timedelta(minutes=2))
    truth = {row["id"] for row in amazon.ground_truth()
             if row["marketplace_id"] == US_MARKETPLACE and row["updated_at"] <= cutoff}
    assert set(seen) == truth
    updates = [o["LastUpdateDate"] for o in orders]
    assert updates == sorted(updates), "sorted by LastUpdateDate"


def test_next_token_is_opaque_checked_and_keeps_its_own_filters(amazon):
    """Orders v0 getOrders: NextToken is "a string token returned in the response of your previous
    request" (amzn/selling-partner-api-models, models/orders-api-model/ordersV0.json), and nothing there
    forbids other parameters beside it. Clients repeat the first request's filters with the token
    (python-amazon-sp-api's load_all_pages; jlevers/selling-partner-api issue #459: "send the exact same
    request again and add the NextToken"), so the next page must come back, not a 400."""
    client = AmazonClient(amazon)
    first = client.get("/orders/v0/orders", MarketplaceIds=US_MARKETPLACE, CreatedAfter="2024-01-01T00:00:00Z",
                       MaxResultsPerPage=3).json()["payload"]
    token = first["NextToken"]
    assert "CreatedBefore" in first
    alone = client.get("/orders/v0/orders", MarketplaceIds=US_MARKETPLACE, NextToken=token)
    repeated = client.get("/orders/v0/orders", MarketplaceIds=US_MARKETPLACE, NextToken=token,
                          CreatedAfter="2024-01-01T00:00:00Z", MaxResultsPerPage=3)
    assert alone.status_code == repeated.status_code == 200, repeated.text
    ids = [o["AmazonOrderId"] for o in repeated.json()["payload"]["Orders"]]
    assert ids == [o["AmazonOrderId"] for o in alone.json()["payload"]["Orders"]]
    assert ids and not set(ids) & {o["AmazonOrderId"] for o in first["Orders"]}
    garbled = client.get("/orders/v0/orders", MarketplaceIds=US_MARKETPLACE, NextToken=token[:-6] + "%2B%2F")
    assert garbled.status_code == 400
    assert garbled.json()["errors"][0]["message"].startswith("We could not decode your NextToken")
    assert garbled.headers["x-amzn-RateLimit-Limit"] == "0.0167" and garbled.headers["x-amzn-RequestId"]


def test_two_minute_rule_and_other_input_errors(amazon):
    client = AmazonClient(amazon)
    now = amazon.clock.now()
    too_recent = client.get("/orders/v0/orders", MarketplaceIds=US_MARKETPLACE,
                            LastUpdatedAfter=iso(now - timedelta(hours=1)),
                            LastUpdatedBefore=iso(now - timedelta(seconds=90)))
    assert too_recent.status_code == 400
    error = too_recent.json()["errors"][0]
    assert error["code"] == "InvalidInput" and "at least 2 minutes before current time" in error["message"]
    fine = client.get("/orders/v0/orders", MarketplaceIds=US_MARKETPLACE,
                      LastUpdatedAfter=iso(now - timedelta(hours=1)), LastUpdatedBefore=iso(now - timedelta(minutes=3)))
    assert fine.status_code == 200 and fine.json()["payload"]["LastUpdatedBefore"] == iso(now - timedelta(minutes=3))
    both = client.get("/orders/v0/orders", MarketplaceIds=US_MARKETPLACE, CreatedAfter="2025-01-01T00:00:00Z",
                      LastUpdatedAfter="2025-01-01T00:00:00Z")
    neither = client.get("/orders/v0/orders", MarketplaceIds=US_MARKETPLACE)
    no_marketplace = client.get("/orders/v0/orders", CreatedAfter="2025-01-01T00:00:00Z")
    big_page = client.get("/orders/v0/orders", MarketplaceIds=US_MARKETPLACE, CreatedAfter="2025-01-01T00:00:00Z",
                          MaxResultsPerPage=101)
    bad_date = client.get("/orders/v0/orders", MarketplaceIds=US_MARKETPLACE, CreatedAfter="yesterday")
    backwards = client.get("/orders/v0/orders", MarketplaceIds=US_MARKETPLACE, CreatedAfter="2025-01-02T00:00:00Z",
                           CreatedBefore="2025-01-01T00:00:00Z")
    for reply in (both, neither, no_marketplace, big_page, bad_date, backwards):
        assert reply.status_code == 400 and reply.json()["errors"][0]["code"] == "InvalidInput", reply.text
    assert bad_date.json()["errors"][0]["message"] == "Invalid date-time field(s) [createdAfter]"


def test_throttled_after_the_burst_then_refilled_by_the_clock(amazon):
    client = AmazonClient(amazon)
    query = {"MarketplaceIds": US_MARKETPLACE, "CreatedAfter": "2025-03-02T00:00:00Z", "MaxResultsPerPage": 1}
    for _ in range(20):
        assert client.get("/orders/v0/orders", **query).status_code == 200
    throttled = client.get("/orders/v0/orders", **query)
    assert throttled.status_code == 429 and throttled.json() == QUOTA
    assert throttled.headers["x-amzn-RequestId"] and "Retry-After" not in throttled.headers
    other_seller = AmazonClient(amazon, account=2)
    assert other_seller.get("/orders/v0/orders", MarketplaceIds="A1F83G8C2ARO7P",
                            CreatedAfter="2025-03-02T00:00:00Z").status_code == 200, "buckets are per seller"
    amazon.clock.advance(60)  # 0.0167 rps: one token a minute
    assert client.get("/orders/v0/orders", **query).status_code == 200
    assert client.get("/orders/v0/orders", **query).status_code == 429
    counts = amazon.counters.snapshot()["getOrders"]
    assert counts["calls"] == 24 and counts["throttled"] == 2


def test_scaled_clock_makes_the_minute_refill_take_a_second(clock):
    with AmazonEmulator(clock=clock, orders=20, rate_limits={"getOrders": RateLimit(0.0167, 2)}) as amazon:
        client = AmazonClient(amazon)
        query = {"MarketplaceIds": US_MARKETPLACE, "CreatedAfter": "2025-03-02T00:00:00Z"}
        assert [client.get("/orders/v0/orders", **query).status_code for _ in range(3)] == [200, 200, 429]
        clock.scale(120)
        time.sleep(0.6)
        assert client.get("/orders/v0/orders", **query).status_code == 200


def _first(amazon, status: str, channel: str = "MFN") -> str:
    return next(r["id"] for r in amazon.ground_truth() if r["status"] == status and r["fulfillment_channel"] == channel
                and r["marketplace_id"] == US_MARKETPLACE)


def _make_pending(amazon) -> str:
    """Move the clock to just after a future US order is placed, so it is Pending now."""
    now = amazon.clock.now()
    oid, order = min(((oid, o) for oid, o in amazon.orders.items() if o.created_at > now
                      and o.country == "US" and not o.platform_fulfilled), key=lambda pair: pair[1].created_at)
    amazon.clock.advance((order.created_at - now).total_seconds() + 1)
    assert order.state(amazon.clock.now()).status.value == "PENDING"
    return oid


def _rdt(client: AmazonClient, path: str, elements=("shippingAddress", "buyerInfo")) -> str:
    reply = client.send("POST", "/tokens/2021-03-01/restrictedDataToken",
                        {"restrictedResources": [{"method": "GET", "path": path, "dataElements": list(elements)}]})
    assert reply.status_code == 200, reply.text
    assert reply.json()["expiresIn"] == 3600
    return reply.json()["restrictedDataToken"]


def test_pii_is_restricted_without_an_rdt_and_full_with_one(amazon):
    client = AmazonClient(amazon)
    oid = _first(amazon, "Unshipped")
    plain = client.get(f"/orders/v0/orders/{oid}").json()["payload"]
    assert set(plain["ShippingAddress"]) == {"City", "StateOrRegion", "PostalCode", "CountryCode"}
    assert set(plain["BuyerInfo"]) == {"BuyerEmail"}
    rdt = _rdt(client, "/orders/v0/orders/{orderId}")
    assert rdt.startswith("Atz.sprdt|")
    full = client.get(f"/orders/v0/orders/{oid}", token=rdt).json()["payload"]
    assert {"Name", "AddressLine1", "Phone", "City"} <= set(full["ShippingAddress"])
    assert full["BuyerInfo"]["BuyerName"] == full["ShippingAddress"]["Name"]
    plain_address = client.get(f"/orders/v0/orders/{oid}/address").json()["payload"]["ShippingAddress"]
    assert "Name" not in plain_address
    address_rdt = _rdt(client, f"/orders/v0/orders/{oid}/address", elements=())
    full_address = client.get(f"/orders/v0/orders/{oid}/address", token=address_rdt).json()["payload"]
    assert full_address["ShippingAddress"]["Name"] == full["ShippingAddress"]["Name"]
    listed = client.get("/orders/v0/orders", token=_rdt(client, "/orders/v0/orders"), MarketplaceIds=US_MARKETPLACE,
                        CreatedAfter="2024-01-01T00:00:00Z").json()["payload"]["Orders"]
    assert any("Name" in o.get("ShippingAddress", {}) for o in listed)
    # An RDT opens only what it lists; an unrelated call with it is Unauthorized.
    assert client.get(f"/orders/v0/orders/{oid}/orderItems", token=address_rdt).status_code == 403
    pending = _make_pending(amazon)  # moves the clock: tokens may have expired meanwhile
    client.token = client.login()
    rdt = _rdt(client, "/orders/v0/orders/{orderId}")
    assert "ShippingAddress" not in client.get(f"/orders/v0/orders/{pending}", token=rdt).json()["payload"]


def test_rdt_request_is_validated(amazon):
    client = AmazonClient(amazon)
    too_many = [{"method": "GET", "path": "/orders/v0/orders"}] * 51
    assert client.send("POST", "/tokens/2021-03-01/restrictedDataToken",
                       {"restrictedResources": too_many}).status_code == 400
    wrong_element = {"restrictedResources": [{"method": "GET", "path": "/orders/v0/orders",
                                              "dataElements": ["creditCard"]}]}
    assert client.send("POST", "/tokens/2021-03-01/restrictedDataToken", wrong_element).status_code == 400


def test_order_items_line_totals_strings_and_pending_without_prices(clock):
    with AmazonEmulator(clock=clock, orders=300, seed=7, items_page_size=1) as amazon:
        client = AmazonClient(amazon)
        multi = next(oid for oid, o in amazon.orders.items() if len(o.lines) > 1 and o.account == client.creds.seller_id
                     and any(line.quantity > 1 for line in o.lines) and o.state(clock.now()).status.value == "READY")
        order = amazon.orders[multi]
        first = client.get(f"/orders/v0/orders/{multi}/orderItems").json()["payload"]
        assert len(first["OrderItems"]) == 1 and first["NextToken"]
        items = first["OrderItems"]
        token = first["NextToken"]
        while token:
            page = client.get(f"/orders/v0/orders/{multi}/orderItems", NextToken=token).json()["payload"]
            items += page["OrderItems"]
            token = page.get("NextToken")
        assert len(items) == len(order.lines)
        for item, line in zip(items, order.lines, strict=True):
            assert item["QuantityOrdered"] == line.quantity and item["IsGift"] in ("true", "false")
            assert item["ItemPrice"]["Amount"] == str(line.unit_price * line.quantity)
            assert isinstance(item["ItemPrice"]["Amount"], str)
        pending = _make_pending(amazon)
        client.token = client.login()
        pending_item = client.get(f"/orders/v0/orders/{pending}/orderItems").json()["payload"]["OrderItems"][0]
        assert "ItemPrice" not in pending_item and "IsGift" not in pending_item
        assert client.get("/orders/v0/orders/999-0000000-0000000/orderItems").status_code == 404


def test_shipment_confirmation_is_validated_recorded_and_applied(amazon):
    client = AmazonClient(amazon)
    oid = next(oid for oid, o in amazon.orders.items() if o.account == client.creds.seller_id
               and not o.platform_fulfilled and o.state(amazon.clock.now()).status.value == "READY"
               and sum(line.quantity for line in o.lines) > 1)
    items = client.get(f"/orders/v0/orders/{oid}/orderItems").json()["payload"]["OrderItems"]
    detail = {"packageReferenceId": "1", "carrierCode": "UPS", "trackingNumber": "1Z999", "shipDate":
              "2025-03-03T11:00:00Z", "orderItems": [{"orderItemId": items[0]["OrderItemId"], "quantity": 1}]}
    path = f"/orders/v0/orders/{oid}/shipmentConfirmation"
    no_carrier = client.send("POST", path, {"marketplaceId": US_MARKETPLACE,
                                            "packageDetail": {k: v for k, v in detail.items() if k != "carrierCode"}})
    assert no_carrier.status_code == 400 and no_carrier.json()["errors"][0]["code"] == "InvalidInput"
    too_many = client.send("POST", path, {"marketplaceId": US_MARKETPLACE, "packageDetail": {
        **detail, "orderItems": [{"orderItemId": items[0]["OrderItemId"], "quantity": 99}]}})
    assert too_many.status_code == 400
    done = client.send("POST", path, {"marketplaceId": US_MARKETPLACE, "packageDetail": detail})
    assert done.status_code == 204 and done.content == b""
    order = client.get(f"/orders/v0/orders/{oid}").json()["payload"]
    assert order["OrderStatus"] == "PartiallyShipped" and order["NumberOfItemsShipped"] == 1
    records = amazon.pushed("tracking")
    assert [r["accepted"] for r in records] == [False, False, True]
    assert records[-1]["content"]["carrier_code"] == "UPS" and records[-1]["content"]["items"][0]["quantity"] == 1


def test_listings_patch_stock_push(amazon):
    client = AmazonClient(amazon)
    seller = client.creds.seller_id
    body = {"productType": "HOME", "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                                                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 12}]}]}
    path = f"/listings/2021-08-01/items/{seller}/OH-BCB-S"
    ok = client.send("PATCH", path, body, marketplaceIds=US_MARKETPLACE)
    assert ok.status_code == 200 and ok.json()["status"] == "ACCEPTED" and ok.json()["issues"] == []
    assert ok.headers["x-amzn-RateLimit-Limit"] == "5"
    negative = {**body, "patches": [{**body["patches"][0], "value": [{"fulfillment_channel_code": "DEFAULT",
                                                                      "quantity": -1}]}]}
    invalid = client.send("PATCH", path, negative, marketplaceIds=US_MARKETPLACE).json()
    assert invalid["status"] == "INVALID" and invalid["issues"][0]["severity"] == "ERROR"
    assert client.send("PATCH", path, {"patches": []}, marketplaceIds=US_MARKETPLACE).status_code == 400
    assert client.send("PATCH", path, body).status_code == 400, "marketplaceIds is required"
    assert client.send("PATCH", "/listings/2021-08-01/items/AOTHER/OH-BCB-S", body,
                       marketplaceIds=US_MARKETPLACE).status_code == 403
    stock = amazon.pushed("stock")
    assert [(r["accepted"], r["content"]["availability"]) for r in stock][0] == (
        True, [{"fulfillment_channel_code": "DEFAULT", "quantity": 12, "marketplace_id": None,
                "lead_time_to_ship_max_days": None}])
    assert amazon.stock[(seller, "OH-BCB-S")] == 12


@pytest.mark.parametrize("status_filter", ["Unshipped", "Shipped,Canceled"])
def test_order_status_filter(amazon, status_filter):
    client = AmazonClient(amazon)
    orders = _list_all(client, CreatedAfter="2024-01-01T00:00:00Z", OrderStatuses=status_filter)
    assert orders and {o["OrderStatus"] for o in orders} <= set(status_filter.split(","))
