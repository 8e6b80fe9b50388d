"""Amazon's own SDK (``amzn-sp-api``) against the Amazon emulator: its typed models must parse every answer.

The SDK's models are generated from Amazon's published API models
(https://github.com/amzn/selling-partner-api-models), so an answer that the SDK cannot parse, or that
does not come back unchanged when the SDK serializes its typed model again (``raw_and_reserialized``:
an unknown key is dropped, a value of the wrong type is converted), is an emulator infidelity.
The SDK is pointed at the emulator with its own ``oauth_endpoint`` and ``endpoint`` arguments.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

import pytest
from spapi import ApiException
from spapi.api.listings_items_v2021_08_01.listings_api import ListingsApi
from spapi.api.orders_v0.orders_v0_api import OrdersV0Api
from spapi.api.tokens_v2021_03_01.tokens_api import TokensApi
from spapi.models.listings_items_v2021_08_01 import ListingsItemPatchRequest, PatchOperation
from spapi.models.orders_v0 import ConfirmShipmentOrderItem, ConfirmShipmentRequest, PackageDetail
from spapi.models.tokens_v2021_03_01 import CreateRestrictedDataTokenRequest, RestrictedResource

from sandbox import RateLimit
from sandbox.amazon.shapes import ADDRESS_STATUSES, ORDER_STATUS, order_item_id
from sandbox.core.world import quantize
from tests.contract.oracles.amazon_clients import (
    ACCOUNT,
    HARNESS,
    MARKETPLACE,
    SINCE,
    limits,
    official_client,
    parse_error,
    raw_and_reserialized,
    sdk_logging_contained,
)

PAGE = 7  # MaxResultsPerPage: small, so 120 orders take many pages
QUOTA = "You exceeded your quota for the requested resource."


@pytest.fixture(autouse=True)
def _sdk_logging():
    with sdk_logging_contained():
        yield


def _order_ids(emulator) -> list[str]:
    """The ids of the orders the emulator shows now, by its own bookkeeping (not through the API)."""
    return [row["id"] for row in emulator.ground_truth()]


def test_get_orders_every_page_parses_and_the_pages_list_each_order_once():
    """getOrders pages with ``NextToken`` until an answer has none; each page is a ``GetOrdersResponse``.

    Source: getOrders, parameters ``NextToken`` / ``MaxResultsPerPage`` and ``GetOrdersResponse`` in
    https://github.com/amzn/selling-partner-api-models/blob/main/models/orders-api-model/ordersV0.json
    """
    with HARNESS.emulator(orders=120, seed=11) as emulator:
        client = official_client(emulator.url)
        api = OrdersV0Api(client)
        page = api.get_orders([MARKETPLACE], last_updated_after=SINCE, max_results_per_page=PAGE)
        before = page.payload.last_updated_before  # now - 2 minutes: the 2-minute rule's default window end
        pages, seen = 0, []
        while True:
            raw, again = raw_and_reserialized(client, page)
            assert raw == again, f"page {pages} does not survive the SDK's model"
            pages += 1
            seen += [(o.amazon_order_id, o.order_status) for o in page.payload.orders]
            assert page.payload.last_updated_before == before
            if not page.payload.next_token:
                break
            # SDK fault: a keyword given as None is sent as the text "None" (NextToken=None is a bad token),
            # so the token is passed only when there is one.
            page = api.get_orders([MARKETPLACE], next_token=page.payload.next_token)
        truth = {row["id"]: row["status"] for row in emulator.ground_truth() if row["updated_at"] <= before}
    ids = [oid for oid, _ in seen]
    assert len(ids) == len(set(ids)), "an order was listed on two pages"
    assert dict(seen) == truth
    assert pages == -(-len(truth) // PAGE) and pages > 3


def test_get_order_parses_in_every_status():
    """getOrder answers a ``GetOrderResponse`` whose ``Order`` carries the required fields and enums.

    Source: getOrder, ``Order`` (required ``AmazonOrderId``, ``PurchaseDate``, ``LastUpdateDate``,
    ``OrderStatus``; ``ShippingAddress`` only for Unshipped, PartiallyShipped, Shipped, InvoiceUnconfirmed) in
    https://github.com/amzn/selling-partner-api-models/blob/main/models/orders-api-model/ordersV0.json
    """
    with HARNESS.emulator(orders=300, seed=11) as emulator:
        client = official_client(emulator.url)
        api = OrdersV0Api(client)
        now = emulator.clock.now()
        sample: dict[tuple[str, str], str] = {}
        for row in emulator.ground_truth():
            sample.setdefault((row["status"], row["fulfillment_channel"]), row["id"])
        for (status, channel), oid in sorted(sample.items()):
            answer = api.get_order(oid)
            raw, again = raw_and_reserialized(client, answer)
            assert raw == again, f"{status}/{channel} order does not survive the SDK's model"
            order = answer.payload
            assert (order.amazon_order_id, order.order_status, order.fulfillment_channel) == (oid, status, channel)
            truth = emulator.orders[oid]
            if order.order_total is None:
                assert status in ("Pending", "Canceled"), "OrderTotal is missing on a paid order"
            else:
                assert Decimal(order.order_total.amount) == quantize(truth.total(), truth.currency)
            if status in ADDRESS_STATUSES:
                assert order.shipping_address.postal_code == truth.state(now).address.postal_code
                assert order.shipping_address.name is None, "PII without a Restricted Data Token"
            else:
                assert order.shipping_address is None
    assert len({status for status, _ in sample}) >= 4, "too few statuses were covered"


def test_get_order_items_follow_next_token_and_parse():
    """getOrderItems pages with its own ``NextToken``; each page is a ``GetOrderItemsResponse``.

    Source: getOrderItems (``NextToken`` parameter, ``OrderItemsList``, ``OrderItem`` required ``ASIN``,
    ``OrderItemId``, ``QuantityOrdered``; prices absent while Pending) in
    https://github.com/amzn/selling-partner-api-models/blob/main/models/orders-api-model/ordersV0.json
    """
    with HARNESS.emulator(orders=200, seed=11, items_page_size=1) as emulator:
        client = official_client(emulator.url)
        api = OrdersV0Api(client)
        now = emulator.clock.now()
        multi = [oid for oid in _order_ids(emulator) if len(emulator.orders[oid].lines) > 1][:5]
        assert multi, "no order with several lines to page through"
        for oid in multi:
            order = emulator.orders[oid]
            page = api.get_order_items(oid)
            items, pages = [], 0
            while True:
                raw, again = raw_and_reserialized(client, page)
                assert raw == again, f"item page {pages} of {oid} does not survive the SDK's model"
                items += page.payload.order_items
                pages += 1
                if not page.payload.next_token:
                    break
                page = api.get_order_items(oid, next_token=page.payload.next_token)
            assert pages == len(order.lines)
            assert [i.order_item_id for i in items] == [order_item_id(order, line.line_no) for line in order.lines]
            assert [i.seller_sku for i in items] == [line.item.sku for line in order.lines]
            status = ORDER_STATUS[order.state(now).status]
            if status in ("Pending", "Canceled"):
                assert all(i.item_price is None for i in items)
            else:
                assert [i.quantity_ordered for i in items] == [line.quantity for line in order.lines]
                assert all(Decimal(i.item_price.amount) > 0 for i in items)


def test_get_order_address_is_restricted_until_a_restricted_data_token_opens_it():
    """getOrderAddress without an RDT leaves out name and street; with one (createRestrictedDataToken for
    the generic address path, no ``dataElements``) the full ``Address`` comes back.

    Sources: getOrderAddress and ``Address`` in
    https://github.com/amzn/selling-partner-api-models/blob/main/models/orders-api-model/ordersV0.json;
    createRestrictedDataToken in
    https://github.com/amzn/selling-partner-api-models/blob/main/models/tokens-api-model/tokens_2021-03-01.json
    """
    with HARNESS.emulator(orders=60, seed=11) as emulator:
        client = official_client(emulator.url)
        now = emulator.clock.now()
        oid = next(row["id"] for row in emulator.ground_truth()
                   if row["status"] == "Unshipped" and row["fulfillment_channel"] == "MFN")
        truth = emulator.orders[oid].state(now).address
        restricted = OrdersV0Api(client).get_order_address(oid)
        raw, again = raw_and_reserialized(client, restricted)
        assert raw == again
        assert restricted.payload.amazon_order_id == oid
        assert restricted.payload.shipping_address.city == truth.city
        assert restricted.payload.shipping_address.name is None
        assert restricted.payload.shipping_address.address_line1 is None

        request = CreateRestrictedDataTokenRequest(restricted_resources=[
            RestrictedResource(method="GET", path=f"/orders/v0/orders/{oid}/address")])
        rdt = TokensApi(client).create_restricted_data_token(request)
        raw, again = raw_and_reserialized(client, rdt)
        assert raw == again
        assert rdt.restricted_data_token and rdt.expires_in > 0

        rdt_client = official_client(emulator.url, restricted_data_token=rdt.restricted_data_token)
        full = OrdersV0Api(rdt_client).get_order_address(oid)
        raw, again = raw_and_reserialized(rdt_client, full)
        assert raw == again
        address = full.payload.shipping_address
        assert (address.name, address.address_line1, address.postal_code) == (truth.name, truth.line1,
                                                                               truth.postal_code)
        assert address.address_type in ("Residential", "Commercial")


def test_patch_listings_item_accepts_stock_and_reports_an_unknown_sku_as_invalid():
    """patchListingsItem answers a ``ListingsItemSubmissionResponse`` (status ACCEPTED or INVALID, with
    ``issues`` whose ``code``, ``message``, ``severity`` and ``categories`` are required).

    Source: patchListingsItem in
    https://github.com/amzn/selling-partner-api-models/blob/main/models/listings-items-api-model/listingsItems_2021-08-01.json
    """
    with HARNESS.emulator(orders=1, seed=11) as emulator:
        client = official_client(emulator.url)
        api = ListingsApi(client)
        sku = emulator.stock_listings()[0]["platform_sku"]
        body = ListingsItemPatchRequest(product_type="PRODUCT", patches=[PatchOperation(
            op="replace", path="/attributes/fulfillment_availability",
            value=[{"fulfillment_channel_code": "DEFAULT", "quantity": 7}])])
        accepted = api.patch_listings_item(ACCOUNT.seller_id, sku, [MARKETPLACE], body)
        raw, again = raw_and_reserialized(client, accepted)
        assert raw == again
        assert (accepted.sku, accepted.status, accepted.issues) == (sku, "ACCEPTED", [])
        assert accepted.submission_id
        assert emulator.stock_levels()[sku] == 7

        unknown = api.patch_listings_item(ACCOUNT.seller_id, "NO-SUCH-SKU", [MARKETPLACE], body)
        raw, again = raw_and_reserialized(client, unknown)
        assert raw == again
        assert unknown.status == "INVALID"
        assert [(i.severity, bool(i.categories), bool(i.message)) for i in unknown.issues] == [("ERROR", True, True)]
        assert "NO-SUCH-SKU" not in emulator.stock_levels()


def test_confirm_shipment_needs_a_tracking_number_answers_204_and_refuses_a_shipped_order():
    """confirmShipment: ``trackingNumber`` is required in ``PackageDetail``; success is 204 with no body;
    errors are a ``ConfirmShipmentErrorResponse``.

    Source: confirmShipment, ``ConfirmShipmentRequest`` and ``PackageDetail`` (required ``packageReferenceId``,
    ``carrierCode``, ``trackingNumber``, ``shipDate``, ``orderItems``) in
    https://github.com/amzn/selling-partner-api-models/blob/main/models/orders-api-model/ordersV0.json
    """
    with HARNESS.emulator(orders=60, seed=11) as emulator:
        client = official_client(emulator.url)
        api = OrdersV0Api(client)
        now = emulator.clock.now()
        oid = next(row["id"] for row in emulator.ground_truth()
                   if row["status"] == "Unshipped" and row["fulfillment_channel"] == "MFN")
        items = api.get_order_items(oid).payload.order_items
        detail = {"packageReferenceId": "1", "carrierCode": "UPS", "shipDate": now.isoformat(),
                  "orderItems": [{"orderItemId": i.order_item_id, "quantity": i.quantity_ordered} for i in items]}
        # The SDK's own PackageDetail refuses to be built without tracking_number, so the body goes as a dict.
        with pytest.raises(ApiException) as missing:
            api.confirm_shipment(oid, {"marketplaceId": MARKETPLACE, "packageDetail": detail})
        assert missing.value.status == 400
        refusal = parse_error(client, missing.value.body, "ConfirmShipmentErrorResponse")
        assert refusal.errors[0].code == "InvalidInput" and "trackingNumber" in refusal.errors[0].details

        request = ConfirmShipmentRequest(marketplace_id=MARKETPLACE, package_detail=PackageDetail(
            package_reference_id="1", carrier_code="UPS", tracking_number="1Z999AA10123456784",
            ship_date=now.astimezone(UTC),
            order_items=[ConfirmShipmentOrderItem(order_item_id=i.order_item_id, quantity=i.quantity_ordered)
                         for i in items]))
        assert api.confirm_shipment(oid, request) is None
        assert client.last_response.status == 204 and not client.last_response.data
        assert api.get_order(oid).payload.order_status == "Shipped"
        assert [r["accepted"] for r in emulator.pushed("tracking")] == [False, True]

        with pytest.raises(ApiException) as again:
            api.confirm_shipment(oid, request)
        assert again.value.status == 400
        assert parse_error(client, again.value.body, "ConfirmShipmentErrorResponse").errors[0].code == "InvalidInput"


@pytest.mark.parametrize(("operation", "rate_header"), [("getOrders", False), ("createRestrictedDataToken", True)])
def test_throttled_call_is_a_429_with_amazons_error_body_and_headers(operation, rate_header):
    """An empty bucket answers 429 ``QuotaExceeded`` in the operation's error list. Headers as each model
    lists them: getOrders' 429 has only ``x-amzn-RequestId``; createRestrictedDataToken's 429 also has
    ``x-amzn-RateLimit-Limit``.

    Sources: the ``429`` responses of getOrders in
    https://github.com/amzn/selling-partner-api-models/blob/main/models/orders-api-model/ordersV0.json and of
    createRestrictedDataToken in
    https://github.com/amzn/selling-partner-api-models/blob/main/models/tokens-api-model/tokens_2021-03-01.json;
    "Usage Plans and Rate Limits", https://developer-docs.amazon.com/sp-api/docs/usage-plans-and-rate-limits;
    the QuotaExceeded body as Amazon sends it: https://github.com/amzn/selling-partner-api-models/issues/746
    """
    with HARNESS.emulator(orders=10, seed=11, limits=limits(**{operation: RateLimit(1, 1)})) as emulator:
        client = official_client(emulator.url)
        if operation == "getOrders":
            def call():
                return OrdersV0Api(client).get_orders([MARKETPLACE], last_updated_after=SINCE)
            error_type = "GetOrdersResponse"
        else:
            oid = _order_ids(emulator)[0]
            request = CreateRestrictedDataTokenRequest(restricted_resources=[
                RestrictedResource(method="GET", path=f"/orders/v0/orders/{oid}/address")])

            def call():
                return TokensApi(client).create_restricted_data_token(request)
            error_type = "ErrorList"
        call()  # the bucket's one token
        with pytest.raises(ApiException) as throttled:
            call()
    assert throttled.value.status == 429
    body = parse_error(client, throttled.value.body, error_type)
    assert [(e.code, e.message) for e in body.errors] == [("QuotaExceeded", QUOTA)]
    headers = throttled.value.headers
    assert headers.get("x-amzn-RequestId")
    if rate_header:
        assert float(headers["x-amzn-RateLimit-Limit"]) == 1.0
    else:
        assert "x-amzn-RateLimit-Limit" not in headers
    assert emulator.counters.snapshot()[operation]["throttled"] == 1
