"""Amazon SP-API emulator: LWA tokens, Restricted Data Tokens, Orders v0, listings stock, shipping.

Behaviour follows docs/platforms/amazon.md (each fact with its public source): 403 (never 401)
for bad access tokens, the 2-minute rule on ``*Before``, opaque NextTokens that carry their own query
(filters sent beside one are ignored), token buckets per (seller, operation) answering 429
QuotaExceeded, a request-id header on every answer and the rate-limit header on the statuses each
published model lists it for (``RATE_LIMIT_HEADER_STATUSES``). This module keeps the routes, the token
check and those headers; LWA and RDT issuing live in ``sandbox.amazon.tokens``, the Orders v0 reads in
``sandbox.amazon.orders``, pushes in ``sandbox.amazon.push``.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from sandbox.amazon import feeds, orders, push, tokens
from sandbox.amazon.shapes import MARKETPLACE_OF, ORDER_STATUS, amazon_order_id, errors, iso, not_found
from sandbox.amazon.tokens import RESTRICTED, Grant
from sandbox.core.buckets import RateLimit
from sandbox.core.control import mount_stock_controls
from sandbox.core.demo_accounts import AMAZON_DEMO_ACCOUNTS, AmazonCredentials
from sandbox.core.http_types import Request, Response, Route
from sandbox.core.listings import ListingIndex, levels_of
from sandbox.core.orders import GeneratedOrder
from sandbox.core.server import Emulator
from sandbox.core.world import CATALOGUE, CatalogueItem

DEFAULT_RATE_LIMITS = {
    "getOrders": RateLimit(0.0167, 20),
    "getOrder": RateLimit(0.5, 30),
    "getOrderItems": RateLimit(0.5, 30),
    "getOrderAddress": RateLimit(0.5, 30),
    "createRestrictedDataToken": RateLimit(1, 10),
    "patchListingsItem": RateLimit(5, 5),
    "confirmShipment": RateLimit(2, 10),
    # Feeds API v2021-06-30 (feeds_2021-06-30.json): createFeed is the default plan; Amazon says the
    # JSON_LISTINGS_FEED type has its own, whose numbers are not in the model.
    "createFeedDocument": RateLimit(0.5, 15),
    "createFeed": RateLimit(0.0083, 15),
    "getFeed": RateLimit(2, 15),
    "getFeeds": RateLimit(0.0222, 10),
    "getFeedDocument": RateLimit(0.0222, 10),
}
# The statuses whose answers carry ``x-amzn-RateLimit-Limit``, per operation, exactly as each published model
# lists the header on its responses: Orders v0 (ordersV0.json) on 200/204, 400 and 404 only, never on 429;
# Listings Items (listingsItems_2021-08-01.json) on 200 and 400; Tokens (tokens_2021-03-01.json) on every
# status but 401/403, 429 included. LWA is not SP-API and sends none. Sources A, B, C of docs/platforms/amazon.md.
_ORDERS_RATE_HEADER = frozenset({200, 400, 404})
RATE_LIMIT_HEADER_STATUSES: dict[str, frozenset[int]] = {
    "getOrders": _ORDERS_RATE_HEADER, "getOrder": _ORDERS_RATE_HEADER, "getOrderItems": _ORDERS_RATE_HEADER,
    "getOrderAddress": _ORDERS_RATE_HEADER, "confirmShipment": frozenset({204, 400, 404}),
    "patchListingsItem": frozenset({200, 400}),
    "createRestrictedDataToken": frozenset({200, 400, 404, 415, 429, 500, 503}),
    # Feeds (feeds_2021-06-30.json): on the success status, 400 and 404 of every operation.
    "createFeedDocument": frozenset({201, 400, 404}), "createFeed": frozenset({202, 400, 404}),
    "getFeed": frozenset({200, 400, 404}), "getFeeds": frozenset({200, 400, 404}),
    "getFeedDocument": frozenset({200, 400, 404}),
}
DENIED = "Access to requested resource is denied."


class AmazonEmulator(Emulator):
    platform = "amazon"
    default_rate_limits = DEFAULT_RATE_LIMITS

    def __init__(self, accounts: tuple[AmazonCredentials, ...] = AMAZON_DEMO_ACCOUNTS, *,
                 token_lifetime: int = 3600, rdt_lifetime: int = 3600, items_page_size: int = 100,
                 catalogue: tuple[CatalogueItem, ...] | None = None, feed_queue_seconds: float = 0.0,
                 feed_processing_seconds: float = 0.0, compress_reports: bool = True, **settings: Any) -> None:
        """``catalogue``: the seller SKUs listings PATCH accepts (default ``world.CATALOGUE``).
        ``feed_queue_seconds`` / ``feed_processing_seconds``: sandbox seconds a feed spends IN_QUEUE, then
        IN_PROGRESS (0: DONE at the first getFeed); ``compress_reports``: serve processing reports GZIP."""
        self.accounts = {a.seller_id: a for a in accounts}
        self._by_country = {country: a for a in accounts for country in a.countries}
        self.token_lifetime, self.rdt_lifetime = token_lifetime, rdt_lifetime
        self.items_page_size = items_page_size
        self.grants: dict[str, Grant] = {}
        # Amazon keys a listing by the seller SKU itself: no platform id, no product to push under.
        self.listings = ListingIndex(CATALOGUE if catalogue is None else catalogue, lambda item: item.sku)
        self.stock: dict[tuple[str, str], int] = {}  # (seller_id, seller SKU) -> DEFAULT channel quantity
        self.next_tokens = orders.NextTokens()
        self.documents: dict[str, feeds.Document] = {}
        self.feeds: dict[str, feeds.Feed] = {}
        self.feed_queue_seconds, self.feed_processing_seconds = feed_queue_seconds, feed_processing_seconds
        self.compress_reports = compress_reports
        super().__init__(**settings)
        mount_stock_controls(self, self)
        self.route("POST", "/auth/o2/token", "lwaToken", lambda req: tokens.lwa_token(self, req), auth=False)
        self.route("POST", "/tokens/2021-03-01/restrictedDataToken", "createRestrictedDataToken",
                   lambda req: tokens.restricted_data_token(self, req))
        self.route("GET", "/orders/v0/orders", "getOrders", lambda req: orders.get_orders(self, req))
        self.route("GET", "/orders/v0/orders/{orderId}", "getOrder", lambda req: orders.get_order(self, req))
        self.route("GET", "/orders/v0/orders/{orderId}/address", "getOrderAddress",
                   lambda req: orders.get_address(self, req))
        self.route("GET", "/orders/v0/orders/{orderId}/orderItems", "getOrderItems",
                   lambda req: orders.get_items(self, req))
        self.route("POST", "/orders/v0/orders/{orderId}/shipmentConfirmation", "confirmShipment",
                   lambda req: push.confirm_shipment(self, req))
        self.route("PATCH", "/listings/2021-08-01/items/{sellerId}/{sku}", "patchListingsItem",
                   lambda req: push.patch_listings_item(self, req))
        self.route("POST", "/feeds/2021-06-30/documents", "createFeedDocument",
                   lambda req: feeds.create_feed_document(self, req))
        self.route("GET", "/feeds/2021-06-30/documents/{feedDocumentId}", "getFeedDocument",
                   lambda req: feeds.get_feed_document(self, req))
        self.route("POST", "/feeds/2021-06-30/feeds", "createFeed", lambda req: feeds.create_feed(self, req))
        self.route("GET", "/feeds/2021-06-30/feeds", "getFeeds", lambda req: feeds.get_feeds(self, req))
        self.route("GET", "/feeds/2021-06-30/feeds/{feedId}", "getFeed", lambda req: feeds.get_feed(self, req))
        # The presigned document URLs (S3 in Amazon's case): no access token, a signature in the query.
        self.route("PUT", "/_s3/feed-documents/{documentId}", "uploadFeedDocument",
                   lambda req: feeds.upload_document(self, req), auth=False)
        self.route("GET", "/_s3/feed-documents/{documentId}", "downloadFeedDocument",
                   lambda req: feeds.download_document(self, req), auth=False)

    # --- Emulator hooks ------------------------------------------------------------------------
    def countries(self) -> tuple[str, ...]:
        return tuple(self._by_country)

    def assign(self, order: GeneratedOrder) -> str:
        order.account = self._by_country[order.country].seller_id
        return amazon_order_id(order)

    def authenticate(self, request: Request, route: Route) -> Response | str:
        token = request.headers.get("x-amz-access-token")
        if not token:
            return errors(403, "MissingAuthenticationToken", DENIED, details=None)
        grant = self.grants.get(token)
        revoked = "The access token you provided is revoked, malformed or invalid."
        if grant is None or grant.expires_at <= self.clock.now():
            return errors(403, "Unauthorized", DENIED, revoked)
        if grant.restricted and (route.template not in RESTRICTED or grant.elements_for(request.path) is None):
            return errors(403, "Unauthorized", DENIED, revoked)  # an RDT opens only what it lists
        request.caller = grant
        return grant.seller_id

    def throttled(self, request: Request, route: Route, retry_after: float) -> Response:
        return errors(429, "QuotaExceeded", "You exceeded your quota for the requested resource.")

    def server_error(self, request: Request, status: int) -> Response:
        if status == 503:
            return errors(503, "ServiceUnavailable", "Service temporarily unavailable. Please try again.")
        return errors(500, "InternalFailure", "We encountered an internal error. Please try again.")

    def not_found(self, request: Request) -> Response:
        return not_found("Resource")

    def finish(self, request: Request, route: Route | None, response: Response) -> Response:
        response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
        limit = self.limiter.limits.get(route.operation) if route else None
        if limit and route and response.status in RATE_LIMIT_HEADER_STATUSES.get(route.operation, ()):
            response.headers["x-amzn-RateLimit-Limit"] = limit.header_value()
        return response

    def order_summary(self, order_id: str, order: GeneratedOrder, now: datetime) -> dict[str, Any]:
        state = order.state(now)
        return {"id": order_id, "account": order.account, "marketplace_id": MARKETPLACE_OF[order.country],
                "status": ORDER_STATUS[state.status], "updated_at": iso(state.updated_at),
                "fulfillment_channel": "AFN" if order.platform_fulfilled else "MFN"}

    # --- stock, for tests and demo config ------------------------------------------------------
    def stock_listings(self, account: str | None = None) -> list[dict[str, str | None]]:
        """The SKU map rows: Amazon's platform SKU is the seller SKU, with no listing id; the same for
        every seller, so ``account`` is ignored."""
        return self.listings.rows()

    def stock_levels(self, account: str | None = None) -> dict[str, int]:
        """Seller SKU -> the last accepted DEFAULT (merchant-fulfilled) quantity of ``account``
        (default: the first seller)."""
        with self.lock:
            return levels_of(self.stock, account or next(iter(self.accounts)))

    # --- tokens (sandbox.amazon.tokens) --------------------------------------------------------
    def issue_access_token(self, seller_id: str) -> str:
        """Mint a token directly (in-process tests that do not exercise LWA)."""
        token = "Atza|" + secrets.token_urlsafe(96)
        self.grants[token] = Grant(seller_id, self.clock.now() + timedelta(seconds=self.token_lifetime))
        return token
