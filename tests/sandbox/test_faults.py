"""Fault injection: 5xx rate, forced throttling, held and dropped responses, malformed and duplicate orders."""

from __future__ import annotations

import time
from collections import Counter

import pytest
import requests

from sandbox.core.faults import FaultInjector
from tests.sandbox.conftest import US_MARKETPLACE, AmazonClient, TikTokClient


def _orders_page(client: AmazonClient, **extra):
    return client.get("/orders/v0/orders", MarketplaceIds=US_MARKETPLACE, CreatedAfter="2024-01-01T00:00:00Z",
                      **extra)


def test_error_rate_gives_platform_5xx_at_about_that_rate_and_is_seeded(amazon):
    client = AmazonClient(amazon)
    amazon.limiter.set_limit("getOrder", amazon.limiter.limits["getOrder"].__class__(1000, 1000))
    oid = next(r["id"] for r in amazon.ground_truth() if r["account"] == client.creds.seller_id)
    amazon.configure_faults(error_rate=0.3, seed=4, operations=["getOrder"])
    statuses = [client.get(f"/orders/v0/orders/{oid}").status_code for _ in range(200)]
    errors = [s for s in statuses if s >= 500]
    assert 40 <= len(errors) <= 80 and set(errors) <= {500, 503}
    assert set(statuses) - {500, 503} == {200}
    assert amazon.counters.get("getOrder", "errors") == len(errors)
    assert _orders_page(client).status_code == 200, "operations limits the faults"
    amazon.configure_faults(error_rate=0.3, seed=4, operations=["getOrder"])
    again = [client.get(f"/orders/v0/orders/{oid}").status_code for _ in range(200)]
    assert again == statuses, "same seed, same sequence"
    amazon.configure_faults()
    assert client.get(f"/orders/v0/orders/{oid}").status_code == 200


def test_forced_throttling_uses_the_platform_throttle_response(amazon, tiktok):
    client = AmazonClient(amazon)
    amazon.configure_faults(throttle_rate=1.0)
    reply = _orders_page(client)
    assert reply.status_code == 429 and reply.json()["errors"][0]["code"] == "QuotaExceeded"
    tiktok.configure_faults(throttle_rate=1.0, operations=["searchOrders"])
    tt = TikTokClient(tiktok)
    throttled = tt.call("POST", "/order/202309/orders/search", {"page_size": 5}, {})
    assert throttled.status_code == 429 and throttled.json()["code"] == 36009002 and throttled.headers["retry-after"]
    assert tiktok.counters.get("searchOrders", "injected") == 1


def test_latency_and_held_responses_outlast_a_client_timeout(amazon):
    client = AmazonClient(amazon)
    amazon.configure_faults(latency_ms=150)
    started = time.perf_counter()
    assert _orders_page(client).status_code == 200
    assert time.perf_counter() - started >= 0.15
    amazon.configure_faults(timeout_rate=1.0, timeout_seconds=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.http.get(amazon.url + "/orders/v0/orders", params={"MarketplaceIds": US_MARKETPLACE},
                        headers={"x-amz-access-token": client.token}, timeout=0.2)


def test_hangup_closes_without_performing_and_drop_performs_then_closes(amazon):
    client = AmazonClient(amazon)
    oid = next(oid for oid, o in amazon.orders.items() if o.account == client.creds.seller_id
               and not o.platform_fulfilled and o.state(amazon.clock.now()).status.value == "READY")
    items = client.get(f"/orders/v0/orders/{oid}/orderItems").json()["payload"]["OrderItems"]
    body = {"marketplaceId": US_MARKETPLACE, "packageDetail": {
        "packageReferenceId": "7", "carrierCode": "UPS", "trackingNumber": "1ZDROP", "shipDate": "2025-03-03T11:00:00Z",
        "orderItems": [{"orderItemId": i["OrderItemId"], "quantity": i["QuantityOrdered"]} for i in items]}}
    path = f"/orders/v0/orders/{oid}/shipmentConfirmation"
    amazon.configure_faults(hangup_rate=1.0, operations=["confirmShipment"])
    with pytest.raises(requests.ConnectionError):
        client.send("POST", path, body)
    assert amazon.pushed("tracking") == [] and amazon.orders[oid].state(amazon.clock.now()).status.value == "READY"
    amazon.configure_faults(drop_response_rate=1.0, operations=["confirmShipment"])
    with pytest.raises(requests.ConnectionError):
        client.send("POST", path, body)
    assert len(amazon.pushed("tracking")) == 1, "performed although the client saw no answer"
    assert amazon.orders[oid].state(amazon.clock.now()).status.value == "SHIPPED"
    amazon.configure_faults()
    retry = client.send("POST", path, body)
    assert retry.status_code == 400, "the retry finds nothing left to ship"


def test_malformed_orders_are_a_deterministic_subset(amazon):
    client = AmazonClient(amazon)
    amazon.configure_faults(malformed_rate=0.2, seed=3)

    def malformed_ids() -> tuple[set[str], set[str]]:
        orders = _orders_page(client).json()["payload"]["Orders"]
        broken = {o["AmazonOrderId"] for o in orders if "PurchaseDate" not in o
                  or o.get("OrderTotal", {}).get("Amount") == "abc" or o["LatestShipDate"] == "next tuesday"}
        return broken, {o["AmazonOrderId"] for o in orders}

    first, served = malformed_ids()
    assert first and first == malformed_ids()[0], "the same orders stay malformed"
    predicted = FaultInjector()
    predicted.configure(malformed_rate=0.2, seed=3)
    assert first == {oid for oid in served if predicted.malformation(oid, 3) is not None}
    share = sum(predicted.malformation(oid, 3) is not None for oid in amazon.orders) / len(amazon.orders)
    assert 0.12 < share < 0.28
    single = next(iter(first))
    assert single in malformed_ids_of_get(client, single), "also malformed when fetched alone"
    amazon.configure_faults(malformed_rate=0.2, seed=4)
    assert malformed_ids()[0] != first, "another seed picks another subset"


def malformed_ids_of_get(client: AmazonClient, oid: str) -> set[str]:
    doc = client.get(f"/orders/v0/orders/{oid}").json()["payload"]
    broken = "PurchaseDate" not in doc or doc.get("OrderTotal", {}).get("Amount") == "abc" \
        or doc["LatestShipDate"] == "next tuesday"
    return {oid} if broken else set()


def test_tiktok_malformations_include_string_times_and_missing_sku(tiktok):
    tiktok.configure_faults(malformed_rate=1.0, seed=1)
    orders = TikTokClient(tiktok).search(page_size=100, body={"update_time_ge": 0})["data"]["orders"]
    kinds = Counter()
    for order in orders:
        if order["create_time"] == "yesterday":
            kinds["time"] += 1
        elif "sku_id" not in order["line_items"][0]:
            kinds["sku"] += 1
        elif isinstance(order["payment"]["total_amount"], float):
            kinds["amount"] += 1
    assert set(kinds) == {"time", "sku", "amount"} and sum(kinds.values()) == len(orders)


def test_duplicates_repeat_an_order_on_the_next_page(amazon, tiktok):
    amazon.configure_faults(duplicate_rate=1.0)
    client = AmazonClient(amazon)
    query = {"MarketplaceIds": US_MARKETPLACE, "CreatedAfter": "2024-01-01T00:00:00Z", "MaxResultsPerPage": 5}
    pages = []
    while True:
        payload = client.get("/orders/v0/orders", **query).json()["payload"]
        pages.append([o["AmazonOrderId"] for o in payload["Orders"]])
        if "NextToken" not in payload:
            break
        query = {"MarketplaceIds": US_MARKETPLACE, "NextToken": payload["NextToken"]}
    assert all(pages[i][-1] == pages[i + 1][0] for i in range(len(pages) - 1)), "the last order repeats"
    everything = [oid for page in pages for oid in page]
    assert set(everything) == {r["id"] for r in amazon.ground_truth() if r["marketplace_id"] == US_MARKETPLACE}
    tiktok.configure_faults(duplicate_rate=1.0)
    tt = TikTokClient(tiktok)
    first = tt.search(page_size=5, body={"update_time_ge": 0})["data"]
    second = tt.search(page_size=5, body={"update_time_ge": 0}, page_token=first["next_page_token"])["data"]
    assert first["orders"][-1]["id"] == second["orders"][0]["id"]
