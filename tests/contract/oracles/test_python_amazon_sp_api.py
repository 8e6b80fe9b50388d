"""The community client ``python-amazon-sp-api`` against the Amazon emulator.

It is the most used Python SP-API client, and it sends requests its own way: filters repeated beside
``NextToken`` by ``load_all_pages``, marketplace keys added to every GET, an RDT fetched and swapped in by
the client itself. The emulator must serve it as Amazon documents, without copying its faults. How the
library is pointed at the emulator, and each fault worked around, is in ``amazon_clients.sp_api_client``.
"""

from __future__ import annotations

import pytest
from sp_api.api import Orders, Tokens
from sp_api.base import SellingApiForbiddenException
from sp_api.util import load_all_pages

from sandbox.amazon.shapes import ORDER_STATUS
from tests.contract.oracles.amazon_clients import HARNESS, MARKETPLACE, SINCE, sp_api_client

PAGE = 7  # MaxResultsPerPage: small, so 120 orders take many pages


def _unshipped_mfn(emulator) -> str:
    """A seller-fulfilled order awaiting shipment: the kind whose full address a seller needs."""
    return next(row["id"] for row in emulator.ground_truth()
                if row["status"] == "Unshipped" and row["fulfillment_channel"] == "MFN")


def test_load_all_pages_over_get_orders_reads_every_order_once_with_the_filters_repeated():
    """``load_all_pages`` sends the first request's filters again beside each ``NextToken``. Amazon's
    getOrders says "NextToken doesn't affect any filters that you include in your request; it only impacts
    the pagination", so every page must come back, and together list each order once.

    Sources: getOrders (its description and ``NextToken``) in
    https://github.com/amzn/selling-partner-api-models/blob/main/models/orders-api-model/ordersV0.json;
    ``load_all_pages``: https://github.com/saleweaver/python-amazon-sp-api (``sp_api/util/load_all_pages.py``)
    """
    with HARNESS.emulator(orders=120, seed=11) as emulator:
        orders = sp_api_client(Orders, emulator.url)
        sent = []

        # use_rate_limit_header: sleep 1/x-amzn-RateLimit-Limit between pages (the harness's huge rate)
        # rather than the library's default 2 s.
        @load_all_pages(use_rate_limit_header=True)
        def every_page(**query):
            sent.append(dict(query))
            return orders.get_orders(**query)

        pages = list(every_page(LastUpdatedAfter=SINCE, MarketplaceIds=[MARKETPLACE], MaxResultsPerPage=PAGE))
        before = pages[0].payload["LastUpdatedBefore"]
        truth = {row["id"]: row["status"] for row in emulator.ground_truth() if row["updated_at"] <= before}
    # The case under test really happened: the filters went out again beside each token.
    assert all(q["LastUpdatedAfter"] == SINCE and q["NextToken"] for q in sent[1:]) and len(sent) > 3
    listed = [(o["AmazonOrderId"], o["OrderStatus"]) for page in pages for o in page.payload["Orders"]]
    ids = [oid for oid, _ in listed]
    assert len(ids) == len(set(ids)), "an order was listed on two pages"
    assert dict(listed) == truth
    assert len(pages) == -(-len(truth) // PAGE)
    assert all(float(page.rate_limit) > 0 for page in pages), "x-amzn-RateLimit-Limit missing on a page"


def test_restricted_data_token_opens_get_order_and_get_order_address_to_the_buyer_address():
    """createRestrictedDataToken for getOrder (``dataElements`` buyerInfo, shippingAddress) and for the
    generic address path; the RDT sent instead of the access token shows the buyer's name and street, and
    opens nothing it does not list.

    Sources: createRestrictedDataToken in
    https://github.com/amzn/selling-partner-api-models/blob/main/models/tokens-api-model/tokens_2021-03-01.json;
    getOrder, getOrderAddress and ``Address`` in
    https://github.com/amzn/selling-partner-api-models/blob/main/models/orders-api-model/ordersV0.json;
    "Tokens API Use Case Guide", https://developer-docs.amazon.com/sp-api/docs/tokens-api-use-case-guide
    """
    with HARNESS.emulator(orders=60, seed=11) as emulator:
        oid = _unshipped_mfn(emulator)
        order = emulator.orders[oid]
        address = order.state(emulator.clock.now()).address
        plain = sp_api_client(Orders, emulator.url).get_order_address(oid).payload["ShippingAddress"]
        assert "Name" not in plain and "AddressLine1" not in plain, "PII without a Restricted Data Token"

        # Library fault: Tokens, a POST, gets "marketplaceIds" and "MarketplaceIds" added to its body; they
        # are not in CreateRestrictedDataTokenRequest. The emulator ignores them.
        token = sp_api_client(Tokens, emulator.url).create_restricted_data_token(restrictedResources=[
            {"method": "GET", "path": f"/orders/v0/orders/{oid}", "dataElements": ["buyerInfo", "shippingAddress"]},
            {"method": "GET", "path": f"/orders/v0/orders/{oid}/address"}]).payload
        assert token["restrictedDataToken"] and token["expiresIn"] > 0

        restricted = sp_api_client(Orders, emulator.url, restricted_data_token=token["restrictedDataToken"])
        shipping = restricted.get_order_address(oid).payload["ShippingAddress"]
        assert (shipping["Name"], shipping["AddressLine1"], shipping["PostalCode"]) == (
            address.name, address.line1, address.postal_code)
        full = restricted.get_order(oid).payload
        assert full["ShippingAddress"]["AddressLine1"] == address.line1
        assert full["BuyerInfo"]["BuyerName"] == order.address.name
        assert full["OrderStatus"] == ORDER_STATUS[order.state(emulator.clock.now()).status]
        with pytest.raises(SellingApiForbiddenException):
            restricted.get_order_items(oid)  # not among the token's resources


def test_get_order_with_restricted_resources_fetches_its_own_token_and_shows_the_address():
    """The library's one-call form: ``get_order(id, RestrictedResources=[...])`` asks for an RDT for that
    order's path with those ``dataElements`` and repeats the call with it.

    Sources: ``RestrictedResource`` (path examples, ``dataElements``) in
    https://github.com/amzn/selling-partner-api-models/blob/main/models/tokens-api-model/tokens_2021-03-01.json
    and https://developer-docs.amazon.com/sp-api/docs/tokens-api-use-case-guide; the helper:
    https://github.com/saleweaver/python-amazon-sp-api (``sp_api/api/orders/orders_v0.py``)
    """
    with HARNESS.emulator(orders=60, seed=11) as emulator:
        oid = _unshipped_mfn(emulator)
        order = emulator.orders[oid]
        address = order.state(emulator.clock.now()).address
        orders = sp_api_client(Orders, emulator.url)
        # Library fault: the helper also sends its own "path" and "RestrictedResources" keys, and the four
        # marketplace keys, as query parameters of the getOrder call, and "original_path" in the token
        # request's body. getOrder takes no query parameters; the emulator ignores them.
        full = orders.get_order(oid, RestrictedResources=["buyerInfo", "shippingAddress"]).payload
        assert (full["ShippingAddress"]["Name"], full["ShippingAddress"]["AddressLine1"]) == (
            address.name, address.line1)
        assert full["BuyerInfo"]["BuyerName"] == order.address.name
        again = orders.get_order(oid).payload  # the helper dropped the RDT afterwards: restricted again
        assert "Name" not in again["ShippingAddress"] and "BuyerName" not in again["BuyerInfo"]
    assert emulator.counters.snapshot()["createRestrictedDataToken"]["calls"] == 1
