"""Amazon SP-API emulator: LWA tokens, Restricted Data Tokens, Orders v0, listings stock, shipping.

Behaviour follows docs/platforms/amazon.md (each fact with its public source): 403 (never 401)
for bad access tokens, the 2-minute rule on ``*Before``, opaque NextTokens that carry their own query
(filters sent beside one are ignored), token buckets per (seller, operation) answering 429
QuotaExceeded, a request-id header on every answer and the rate-limit header on the statuses each
published model lists it for (``RATE_LIMIT_HEADER_STATUSES``). Pushes live in ``sandbox.amazon.push``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from sandbox.amazon import push
from sandbox.amazon.shapes import (
    MALFORMATIONS,
    MARKETPLACE_OF,
    ORDER_STATUS,
    amazon_order_id,
    errors,
    invalid,
    iso,
    not_found,
    render_items,
    render_order,
    shipping_address,
)
from sandbox.core.buckets import RateLimit
from sandbox.core.control import mount_stock_controls
from sandbox.core.demo_accounts import AMAZON_DEMO_ACCOUNTS, AmazonCredentials
from sandbox.core.generator import GeneratedOrder
from sandbox.core.http_types import Request, Response, Route
from sandbox.core.listings import ListingIndex, levels_of
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
}
TWO_MINUTE_RULE = (
    "The input you have submitted is not valid. Note that the error may be due to a systematic delay in "
    "data retrieval. The most updated data is 2 minutes after an order is created or last updated. If you "
    "set the CreatedBefore or LastUpdatedBefore parameters, please provide a date that is at least 2 "
    "minutes before current time and try again.")
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
}
BAD_NEXT_TOKEN = "We could not decode your NextToken. Please check your NextToken and try again."
DENIED = "Access to requested resource is denied."
# Restricted operations an RDT can open, and the data elements each accepts.
RESTRICTED = {
    "/orders/v0/orders": ("getOrders", {"buyerInfo", "shippingAddress", "buyerTaxInformation"}),
    "/orders/v0/orders/{orderId}": ("getOrder", {"buyerInfo", "shippingAddress", "buyerTaxInformation"}),
    "/orders/v0/orders/{orderId}/address": ("getOrderAddress", set()),
    "/orders/v0/orders/{orderId}/orderItems": ("getOrderItems", {"buyerInfo"}),
}


@dataclass(frozen=True)
class Grant:
    """What a bearer token opens: an LWA access token, or an RDT for listed resources."""

    seller_id: str
    expires_at: datetime
    resources: tuple[tuple[str, frozenset[str]], ...] = ()  # (path template or literal, elements)

    @property
    def restricted(self) -> bool:
        return bool(self.resources)

    def elements_for(self, path: str) -> frozenset[str] | None:
        for template, elements in self.resources:
            if _path_matches(template, path):
                return elements
        return None


class AmazonEmulator(Emulator):
    platform = "amazon"
    default_rate_limits = DEFAULT_RATE_LIMITS

    def __init__(self, accounts: tuple[AmazonCredentials, ...] = AMAZON_DEMO_ACCOUNTS, *,
                 token_lifetime: int = 3600, rdt_lifetime: int = 3600, items_page_size: int = 100,
                 catalogue: tuple[CatalogueItem, ...] | None = None, **settings: Any) -> None:
        """``catalogue``: the seller SKUs listings PATCH accepts (default ``world.CATALOGUE``)."""
        self.accounts = {a.seller_id: a for a in accounts}
        self._by_country = {country: a for a in accounts for country in a.countries}
        self.token_lifetime, self.rdt_lifetime = token_lifetime, rdt_lifetime
        self.items_page_size = items_page_size
        self.grants: dict[str, Grant] = {}
        # Amazon keys a listing by the seller SKU itself: no platform id, no product to push under.
        self.listings = ListingIndex(CATALOGUE if catalogue is None else catalogue, lambda item: item.sku)
        self.stock: dict[tuple[str, str], int] = {}  # (seller_id, seller SKU) -> DEFAULT channel quantity
        self._token_key = secrets.token_bytes(16)
        super().__init__(**settings)
        mount_stock_controls(self, self)
        self.route("POST", "/auth/o2/token", "lwaToken", self._lwa_token, auth=False)
        self.route("POST", "/tokens/2021-03-01/restrictedDataToken", "createRestrictedDataToken", self._rdt)
        self.route("GET", "/orders/v0/orders", "getOrders", self._get_orders)
        self.route("GET", "/orders/v0/orders/{orderId}", "getOrder", self._get_order)
        self.route("GET", "/orders/v0/orders/{orderId}/address", "getOrderAddress", self._get_address)
        self.route("GET", "/orders/v0/orders/{orderId}/orderItems", "getOrderItems", self._get_items)
        self.route("POST", "/orders/v0/orders/{orderId}/shipmentConfirmation", "confirmShipment",
                   lambda req: push.confirm_shipment(self, req))
        self.route("PATCH", "/listings/2021-08-01/items/{sellerId}/{sku}", "patchListingsItem",
                   lambda req: push.patch_listings_item(self, req))

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

    # --- auth endpoints ------------------------------------------------------------------------
    def issue_access_token(self, seller_id: str) -> str:
        """Mint a token directly (in-process tests that do not exercise LWA)."""
        token = "Atza|" + secrets.token_urlsafe(96)
        self.grants[token] = Grant(seller_id, self.clock.now() + timedelta(seconds=self.token_lifetime))
        return token

    def _lwa_token(self, request: Request) -> Response:
        form = {k: v[0] for k, v in _form(request.body).items()}
        headers = {"Content-Type": "application/json;charset=UTF-8"}
        if form.get("grant_type") != "refresh_token":
            return self._lwa_error(400, "unsupported_grant_type",
                                   "The authorization grant type is not supported by the authorization server")
        for name in ("refresh_token", "client_id", "client_secret"):
            if not form.get(name):
                return self._lwa_error(400, "invalid_request", f"The request is missing a required parameter : {name}")
        apps = {(a.client_id, a.client_secret) for a in self.accounts.values()}
        if (form["client_id"], form["client_secret"]) not in apps:
            return self._lwa_error(401, "invalid_client", "Client authentication failed")
        account = next((a for a in self.accounts.values() if a.refresh_token == form["refresh_token"]
                        and a.client_id == form["client_id"]), None)
        if account is None:
            return self._lwa_error(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
        token = self.issue_access_token(account.seller_id)
        return Response.json(200, {"access_token": token, "refresh_token": account.refresh_token,
                                   "token_type": "bearer", "expires_in": self.token_lifetime}, headers)

    def _lwa_error(self, status: int, error: str, description: str) -> Response:
        self.counters.add("lwaToken", "auth_failures")
        return Response.json(status, {"error_description": description, "error": error})

    def _rdt(self, request: Request) -> Response:
        grant: Grant = request.caller  # never an RDT: authenticate() keeps RDTs to restricted paths
        try:
            body = request.json()
        except ValueError:
            return invalid("The request body is not valid JSON.")
        resources = body.get("restrictedResources") if isinstance(body, dict) else None
        if not isinstance(resources, list) or not 1 <= len(resources) <= 50:
            return invalid("restrictedResources must hold between 1 and 50 resources.")
        parsed, asked = [], set()
        for i, res in enumerate(resources):
            if not isinstance(res, dict) or res.get("method") != "GET" or not isinstance(res.get("path"), str):
                return invalid(f"restrictedResources[{i}] needs method GET and a path.")
            template = next((t for t in RESTRICTED if _path_matches(t, res["path"])), None)
            if template is None:
                return invalid(f"restrictedResources[{i}].path {res['path']} is not a restricted resource.")
            elements = res.get("dataElements", [])
            allowed = RESTRICTED[template][1]
            if not isinstance(elements, list) or not set(elements) <= allowed:
                return invalid(f"restrictedResources[{i}].dataElements must be a subset of {sorted(allowed)}.")
            asked |= set(elements)
            parsed.append((res["path"], frozenset(elements)))
        if asked and not self.accounts[grant.seller_id].pii_access:
            return errors(403, "Unauthorized", "Application does not have access to one or more requested "
                          f"data elements: [{', '.join(sorted(asked))}]", "")
        token = "Atz.sprdt|" + secrets.token_urlsafe(96)
        expires = self.clock.now() + timedelta(seconds=self.rdt_lifetime)
        self.grants[token] = Grant(grant.seller_id, expires, tuple(parsed))
        return Response.json(200, {"restrictedDataToken": token, "expiresIn": self.rdt_lifetime})

    # --- orders --------------------------------------------------------------------------------
    def _get_orders(self, request: Request) -> Response:
        grant: Grant = request.caller
        now = self.clock.now()
        marketplaces = _csv(request, "MarketplaceIds")
        if not marketplaces:
            return invalid("MarketplaceIds is required.")
        if len(marketplaces) > 50 or not set(marketplaces) <= set(self.accounts[grant.seller_id].marketplace_ids):
            return invalid(f"Invalid MarketplaceIds: {','.join(marketplaces)}")
        token = request.arg("NextToken")
        if token is not None:
            # The token carries the query it was issued for; filters sent beside it (the first request
            # repeated, as python-amazon-sp-api's load_all_pages and many clients do) change nothing.
            query = self._decode_token(token, grant.seller_id, "orders")
            if query is None:
                return invalid(message=BAD_NEXT_TOKEN)
        else:
            query = self._first_page_query(request, now)
            if isinstance(query, Response):
                return query
        return self._orders_page(query, marketplaces, grant, now)

    def _first_page_query(self, request: Request, now: datetime) -> dict[str, Any] | Response:
        fields = ("CreatedAfter", "CreatedBefore", "LastUpdatedAfter", "LastUpdatedBefore")
        dates: dict[str, datetime] = {}
        bad = []
        for name in fields:
            raw = request.arg(name)
            if raw is not None:
                parsed = _parse_date(raw)
                if parsed is None:
                    bad.append(name[0].lower() + name[1:])
                else:
                    dates[name] = parsed
        if bad:
            return invalid(message=f"Invalid date-time field(s) [{', '.join(bad)}]")
        ids = _csv(request, "AmazonOrderIds")
        mode = "created" if "CreatedAfter" in dates else "updated"
        if not ids:
            if ("CreatedAfter" in dates) == ("LastUpdatedAfter" in dates):
                return invalid("Exactly one of CreatedAfter and LastUpdatedAfter is required.")
            if mode == "created" and "LastUpdatedBefore" in dates or mode == "updated" and "CreatedBefore" in dates:
                return invalid("LastUpdatedAfter/LastUpdatedBefore cannot be combined with CreatedAfter/CreatedBefore.")
        prefix = "Created" if mode == "created" else "LastUpdated"
        after = dates.get(f"{prefix}After", datetime(1995, 1, 1, tzinfo=UTC))
        before = dates.get(f"{prefix}Before")
        if before is not None:
            if before < after:
                return invalid(f"{prefix}Before must be later than or equal to {prefix}After.")
            if before > now - timedelta(minutes=2):
                return invalid(message=TWO_MINUTE_RULE)
        else:
            before = now - timedelta(minutes=2)
        size = request.arg("MaxResultsPerPage", "100")
        if not (size or "").isdigit() or not 1 <= int(size) <= 100:
            return invalid("MaxResultsPerPage must be between 1 and 100.")
        if len(ids) > 50:
            return invalid("AmazonOrderIds accepts at most 50 ids.")
        return {"mode": mode, "after": iso_us(after), "before": iso_us(before), "size": int(size),
                "statuses": _csv(request, "OrderStatuses"), "channels": _csv(request, "FulfillmentChannels"),
                "ids": ids, "cursor": None}

    def _orders_page(self, query: dict[str, Any], marketplaces: list[str], grant: Grant, now: datetime) -> Response:
        after, before = datetime.fromisoformat(query["after"]), datetime.fromisoformat(query["before"])
        rows = []
        for oid, order in self.orders.items():
            if order.account != grant.seller_id or MARKETPLACE_OF[order.country] not in marketplaces:
                continue
            if not order.visible(now) or (query["ids"] and oid not in query["ids"]):
                continue
            state = order.state(now)
            key_time = order.created_at if query["mode"] == "created" else state.updated_at
            if not query["ids"] and not after <= key_time <= before:
                continue
            if query["statuses"] and ORDER_STATUS[state.status] not in query["statuses"]:
                continue
            channel = "AFN" if order.platform_fulfilled else "MFN"
            if query["channels"] and channel not in query["channels"]:
                continue
            rows.append((iso_us(state.updated_at), oid, order, state))
        rows.sort(key=lambda r: (r[0], r[1]))
        if query["cursor"]:
            rows = [r for r in rows if (r[0], r[1]) > tuple(query["cursor"])]
        page, more = rows[:query["size"]], len(rows) > query["size"]
        elements = grant.elements_for("/orders/v0/orders") or frozenset()
        orders = [render_order(oid, order, state, now, elements, self.faults.malformation(oid, MALFORMATIONS))
                  for _, oid, order, state in page]
        payload: dict[str, Any] = {"Orders": orders}
        if more:
            last = page[-1] if not (len(page) > 1 and self.faults.duplicates_after(page[-1][1])) else page[-2]
            payload["NextToken"] = self._encode_token({**query, "cursor": [last[0], last[1]]},
                                                      grant.seller_id, "orders")
        payload["CreatedBefore" if query["mode"] == "created" else "LastUpdatedBefore"] = \
            iso(datetime.fromisoformat(query["before"]))
        return Response.json(200, {"payload": payload})

    def _visible_order(self, request: Request) -> tuple[str, GeneratedOrder] | Response:
        oid = request.params["orderId"]
        order = self.orders.get(oid)
        if order is None or order.account != request.caller.seller_id or not order.visible(self.clock.now()):
            return not_found(f"Order {oid}")
        return oid, order

    def _get_order(self, request: Request) -> Response:
        found = self._visible_order(request)
        if isinstance(found, Response):
            return found
        oid, order = found
        now = self.clock.now()
        elements = request.caller.elements_for(request.path) or frozenset()
        doc = render_order(oid, order, order.state(now), now, elements, self.faults.malformation(oid, MALFORMATIONS))
        return Response.json(200, {"payload": doc})

    def _get_address(self, request: Request) -> Response:
        found = self._visible_order(request)
        if isinstance(found, Response):
            return found
        oid, order = found
        now = self.clock.now()
        state = order.state(now)
        payload: dict[str, Any] = {"AmazonOrderId": oid}
        if ORDER_STATUS[state.status] in ("Unshipped", "PartiallyShipped", "Shipped"):
            payload["ShippingAddress"] = shipping_address(order, state, now, request.caller.restricted)
        return Response.json(200, {"payload": payload})

    def _get_items(self, request: Request) -> Response:
        found = self._visible_order(request)
        if isinstance(found, Response):
            return found
        oid, order = found
        items = render_items(order, order.state(self.clock.now()))
        start = 0
        token = request.arg("NextToken")
        if token is not None:
            decoded = self._decode_token(token, request.caller.seller_id, f"items:{oid}")
            if decoded is None:
                return invalid(message=BAD_NEXT_TOKEN)
            start = decoded["offset"]
        end = start + self.items_page_size
        payload: dict[str, Any] = {"AmazonOrderId": oid, "OrderItems": items[start:end]}
        if end < len(items):
            payload["NextToken"] = self._encode_token({"offset": end}, request.caller.seller_id, f"items:{oid}")
        return Response.json(200, {"payload": payload})

    # --- NextToken: opaque, standard base64 (so + / = need URL-encoding), tamper-evident -------
    def _encode_token(self, state: dict[str, Any], seller_id: str, scope: str) -> str:
        data = json.dumps({"s": seller_id, "scope": scope, "q": state}, sort_keys=True, separators=(",", ":"))
        mac = hmac.new(self._token_key, data.encode(), hashlib.sha256).hexdigest()[:16]
        return base64.b64encode(f"{mac}{data}".encode()).decode()

    def _decode_token(self, token: str, seller_id: str, scope: str) -> dict[str, Any] | None:
        try:
            raw = base64.b64decode(token, validate=True).decode()
            mac, data = raw[:16], raw[16:]
            envelope = json.loads(data)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        good = hmac.compare_digest(mac, hmac.new(self._token_key, data.encode(), hashlib.sha256).hexdigest()[:16])
        if not good or envelope.get("s") != seller_id or envelope.get("scope") != scope:
            return None
        return envelope["q"]


def iso_us(moment: datetime) -> str:
    """Sortable ISO with microseconds, for cursors (the API itself shows whole seconds)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _csv(request: Request, name: str) -> list[str]:
    values = request.query.get(name, [])
    return [part for value in values for part in value.split(",") if part]


def _parse_date(raw: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _form(body: bytes) -> dict[str, list[str]]:
    return parse_qs(body.decode("utf-8"), keep_blank_values=True)


def _path_matches(template: str, path: str) -> bool:
    t_parts, p_parts = template.strip("/").split("/"), path.strip("/").split("/")
    return len(t_parts) == len(p_parts) and all(
        t == p or (t.startswith("{") and t.endswith("}")) for t, p in zip(t_parts, p_parts, strict=True))
