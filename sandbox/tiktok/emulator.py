"""TikTok Shop emulator: token refresh, signed calls, authorised shops, order search and detail.

Behaviour follows docs/platforms/tiktok.md (each fact with its public source) and the error texts
of TikTok's common-errors page: every call is signed (HMAC-SHA256 over path + sorted query + raw body, wrapped in the app
secret), errors come back as HTTP 200 with a non-zero ``code``, throttling as HTTP 429 with
``retry-after`` and code 36009002. This module keeps the routes and that per-call check; the token refresh
and authorised shops live in ``sandbox.tiktok.tokens``, order search and detail in ``sandbox.tiktok.orders``,
pushes in ``sandbox.tiktok.push``, webhooks in ``sandbox.tiktok.webhook``.

Versions: TikTok versions each API in its path and keeps a superseded version for a while, so the
emulator serves every version docs/platforms/tiktok.md lists as served (order detail 202309 and 202507,
mark-as-shipped 202309 and 202610), each version of one API drawing on the same rate-limit bucket. Any
other version of a known path is refused with 36009014, as TikTok refuses a retired one.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sandbox.core.buckets import RateLimit
from sandbox.core.control import mount_stock_controls
from sandbox.core.demo_accounts import TIKTOK_DEMO_SHOPS, TikTokCredentials
from sandbox.core.generator import stable_digits
from sandbox.core.http_types import Request, Response, Route
from sandbox.core.listings import ListingIndex, levels_of
from sandbox.core.orders import GeneratedOrder
from sandbox.core.server import Emulator
from sandbox.core.world import CATALOGUE, CatalogueItem
from sandbox.tiktok import orders, push, tokens, webhook
from sandbox.tiktok.shapes import (
    ORDER_STATUS,
    envelope,
    order_id,
    product_id,
    sku_id,
    unix,
)
from sandbox.tiktok.tokens import E_APP_KEY, TikTokGrant, open_id

# TikTok's published default is 50 QPS per API, per app and shop (docs/platforms/tiktok.md); override per test.
DEFAULT_RATE_LIMITS = {
    "searchOrders": RateLimit(50, 50),
    "getOrderDetail": RateLimit(50, 50),
    "getAuthorizedShops": RateLimit(10, 10),
    "updateInventory": RateLimit(50, 50),
    "markPackageAsShipped": RateLimit(50, 50),
}
SHOPLESS = {"getAuthorizedShops"}  # endpoints that reject shop_cipher
NOT_SIGNED = ("sign", "access_token", "x-tts-access-token")
E_NO_SIGN = (36009004, "Missing credentials. The request does not include a required signature in the query.")
E_TS_NEGATIVE = (36009004, "Invalid timestamp. The value of the `timestamp` query parameter must not be lesser than 0.")
E_TS_OLD = (36009004, "Invalid timestamp. The value of the `timestamp` query parameter must not be earlier "
            "than 5 minutes before the current time.")
E_TS_FUTURE = (36009004, "Invalid timestamp. The value of the `timestamp` query parameter must not exceed the "
               "current time by more than 30 seconds.")
E_SIGN = (106001, "Invalid credentials. The `sign` query parameter is invalid.")
E_TOKEN = (36009004, "Invalid credentials. The `x-tts-access-token` header is invalid.")
E_EXPIRED = (105002, "Expired credentials. The `access_token` or `x-tts-access-token` header has expired.")
E_NO_CIPHER = (106013, "Missing identifier. The `shop_cipher` query parameter is required to identify the "
               "target shop.")
E_CIPHER_UNEXPECTED = (36009004, "Unexpected identifier. The `shop_cipher` query parameter is not required for "
                       "this request.")
E_CIPHER_INVALID = (36009004, "Invalid identifier. The `shop_id` query parameter is invalid.")
E_THROTTLED = (36009002, "Too many requests. You've made too many requests in a short period of time.")
E_INTERNAL = (36009003, "Internal error. Please try again. If the issue persists after multiple attempts, "
              "please contact platform support.")
E_VERSION = (36009014, "The version name is invalid, please check and retry.")
E_PATH = (36009009, "Invalid path. The specified path does not match any available endpoint.")
VERSION_SEGMENT = re.compile(r"/\d{6}/")


@dataclass(frozen=True)
class Caller:
    """Who is calling: the grant, and the shop the call addresses (None for shop-less endpoints)."""

    grant: TikTokGrant
    shop: TikTokCredentials | None


def sign(path: str, query: dict[str, str], body: bytes, app_secret: str, method: str = "POST",
         content_type: str = "application/json") -> str:
    """The signature of docs/platforms/tiktok.md; the emulator's own copy, independent of any client code."""
    keys = sorted(k for k in query if k not in NOT_SIGNED)
    base = (path + "".join(k + query[k] for k in keys)).encode()
    if method != "GET" and not content_type.startswith("multipart"):
        base += body
    secret = app_secret.encode()
    return hmac.new(secret, secret + base + secret, hashlib.sha256).hexdigest()


class TikTokEmulator(Emulator):
    platform = "tiktok"
    default_rate_limits = DEFAULT_RATE_LIMITS

    def __init__(self, shops: tuple[TikTokCredentials, ...] = TIKTOK_DEMO_SHOPS, *,
                 token_lifetime: int = 7 * 86400, timestamp_tolerance: int | None = 300,
                 always_mask: bool = False, catalogue: tuple[CatalogueItem, ...] | None = None,
                 **settings: Any) -> None:
        """``catalogue``: the products and SKUs inventory updates accept (default ``world.CATALOGUE``)."""
        self.shops = {s.shop_id: s for s in shops}
        self._by_cipher = {s.shop_cipher: s for s in shops}
        self._by_country = {s.region: s for s in shops}
        self.token_lifetime, self.timestamp_tolerance = token_lifetime, timestamp_tolerance
        self.always_mask = always_mask
        self.grants: dict[str, TikTokGrant] = {}
        self.listings = ListingIndex(CATALOGUE if catalogue is None else catalogue,
                                     lambda item: sku_id(item.sku), lambda item: product_id(item.family))
        self.stock: dict[tuple[str, str], int] = {}  # (shop_id, TikTok sku id) -> quantity
        self.page_tokens = orders.PageTokens()
        super().__init__(**settings)
        mount_stock_controls(self, self)
        self.route("GET", "/api/v2/token/refresh", "refreshToken", lambda req: tokens.refresh(self, req),
                   auth=False)
        self.route("GET", "/authorization/202309/shops", "getAuthorizedShops",
                   lambda req: tokens.authorized_shops(self, req))
        self.route("POST", "/order/202309/orders/search", "searchOrders",
                   lambda req: orders.search_orders(self, req))
        self.route("GET", "/logistics/202309/delivery_options/{delivery_option_id}/shipping_providers",
                   "getShippingProviders", lambda req: push.shipping_providers(self, req))
        for version in ("202309", "202507"):  # the same document in every sandbox market (docs)
            self.route("GET", f"/order/{version}/orders", "getOrderDetail",
                       lambda req: orders.order_detail(self, req))
        self.route("POST", "/product/202309/products/{product_id}/inventory/update", "updateInventory",
                   lambda req: push.update_inventory(self, req))
        for version in push.PACKAGE_BODIES:
            self.route("POST", f"/fulfillment/{version}/orders/{{order_id}}/packages", "markPackageAsShipped",
                       lambda req, v=version: push.mark_package_shipped(self, req, v))
        # Every known path with any version in its place: what an unserved version is told.
        self._any_version = [Route(r.method, VERSION_SEGMENT.sub("/{version}/", r.template, count=1),
                                   r.operation, r.handler).pattern
                             for r in self.routes if VERSION_SEGMENT.search(r.template)]
        self.paths_served: Counter[str] = Counter()  # "METHOD template" -> answers, to tell versions apart
        self._address_updates_sent: set[tuple[str, datetime]] = set()

    # --- Emulator hooks ------------------------------------------------------------------------
    def countries(self) -> tuple[str, ...]:
        return tuple(self._by_country)

    def assign(self, order: GeneratedOrder) -> str:
        order.account = self._by_country[order.country].shop_id
        return order_id(order)

    def warehouse_id(self, shop_id: str) -> str:
        return "70685" + stable_digits("tt-warehouse", shop_id, length=14)

    def authenticate(self, request: Request, route: Route) -> Response | str:
        app = next((s for s in self.shops.values() if s.app_key == request.arg("app_key")), None)
        if app is None:
            return self.error(E_APP_KEY)
        if not request.arg("sign"):
            return self.error(E_NO_SIGN)
        rejected = self._check_timestamp(request.arg("timestamp"))
        if rejected:
            return rejected
        query = {k: v[0] for k, v in request.query.items() if len(v) == 1}
        expected = sign(request.path, query, request.body, app.app_secret, request.method,
                        request.headers.get("content-type", "application/json"))
        if not hmac.compare_digest(expected, request.arg("sign") or ""):
            return self.error(E_SIGN)
        grant = self.grants.get(request.headers.get("x-tts-access-token") or "")
        if grant is None:
            return self.error(E_TOKEN)
        if grant.expires_at <= self.clock.now():
            return self.error(E_EXPIRED)
        cipher = request.arg("shop_cipher")
        if route.operation in SHOPLESS:
            if cipher is not None:
                return self.error(E_CIPHER_UNEXPECTED)
            request.caller = Caller(grant, None)
            return grant.open_id
        if not cipher:
            return self.error(E_NO_CIPHER)
        shop = self._by_cipher.get(cipher)
        if shop is None or shop.shop_id not in grant.shop_ids:
            return self.error(E_CIPHER_INVALID)
        request.caller = Caller(grant, shop)
        return shop.shop_id

    def throttled(self, request: Request, route: Route, retry_after: float) -> Response:
        """429 + ``retry-after`` in real seconds (a clock running N× faster refills N× sooner)."""
        factor = self.clock.factor
        wait = retry_after / factor if factor > 0 else retry_after
        return envelope(None, *E_THROTTLED, status=429, headers={"retry-after": str(max(1, math.ceil(wait)))},
                        now=self.clock.now())

    def server_error(self, request: Request, status: int) -> Response:
        return envelope(None, *E_INTERNAL, status=status, now=self.clock.now())

    def not_found(self, request: Request) -> Response:
        if any(pattern.match(request.path) for pattern in self._any_version):
            return self.error(E_VERSION)
        return envelope(None, *E_PATH, status=404, now=self.clock.now())

    def finish(self, request: Request, route: Route | None, response: Response) -> Response:
        if route is not None:
            with self.lock:
                self.paths_served[f"{route.method} {route.template}"] += 1
        return response

    def order_summary(self, oid: str, order: GeneratedOrder, now: datetime) -> dict[str, Any]:
        state = order.state(now)
        return {"id": oid, "account": order.account, "status": ORDER_STATUS[state.status],
                "updated_at": state.updated_at.isoformat(), "update_time": unix(state.updated_at),
                "fulfillment_type": "FULFILLMENT_BY_TIKTOK" if order.platform_fulfilled else "FULFILLMENT_BY_SELLER"}

    def error(self, failure: tuple[int, str], data: Any = None) -> Response:
        return envelope(data, failure[0], failure[1], now=self.clock.now())

    def _check_timestamp(self, raw: str | None) -> Response | None:
        if raw is None or not raw.lstrip("-").isdigit():
            return self.error(E_TS_NEGATIVE)
        stamp = int(raw)
        if stamp < 0:
            return self.error(E_TS_NEGATIVE)
        if self.timestamp_tolerance is None:
            return None
        # Freshness is checked against the wall clock: clients stamp requests with real time, while the
        # sandbox clock models business time that tests advance or scale.
        now = int(time.time())
        if stamp < now - self.timestamp_tolerance:
            return self.error(E_TS_OLD)
        if stamp > now + 30:
            return self.error(E_TS_FUTURE)
        return None

    # --- stock, for tests and demo config ------------------------------------------------------
    def stock_listings(self, account: str | None = None) -> list[dict[str, str | None]]:
        """The SKU map rows: TikTok's sku id, under its product id (the inventory update's path).
        Ids derive from the seller SKU alone, the same in every shop, so ``account`` is ignored."""
        return self.listings.rows()

    def stock_levels(self, account: str | None = None) -> dict[str, int]:
        """TikTok sku id -> the last accepted quantity (summed over warehouses) in shop ``account``
        (default: the first shop)."""
        with self.lock:
            return levels_of(self.stock, account or next(iter(self.shops)))

    # --- auth ----------------------------------------------------------------------------------
    def issue_access_token(self, shop_id: str) -> str:
        """Mint a token directly (in-process tests that do not exercise the refresh call)."""
        token = "TTP_" + secrets.token_urlsafe(48)
        expires = self.clock.now() + timedelta(seconds=self.token_lifetime)
        self.grants[token] = TikTokGrant((shop_id,), open_id(shop_id), expires)
        return token

    # --- webhooks (sandbox.tiktok.webhook) -------------------------------------------------------
    def send_order_webhook(self, url: str, oid: str, *, forge: bool = False, timeout: float = 5.0) -> int:
        """POST a signed ORDER_STATUS_CHANGE (type 1) webhook for ``oid`` to ``url``; returns the status."""
        return webhook.send_order_status(self, url, oid, forge=forge, timeout=timeout)

    def send_address_webhook(self, url: str, oid: str, *, forge: bool = False, timeout: float = 5.0) -> int:
        """POST a signed RECIPIENT_ADDRESS_UPDATE (type 3) webhook for ``oid``, whose buyer changed the address."""
        return webhook.send_address_update(self, url, oid, forge=forge, timeout=timeout)

    def deliver_address_updates(self, url: str, *, timeout: float = 5.0) -> dict[str, int]:
        """A type 3 webhook for each buyer address change the clock has passed since the last delivery
        (each change once): order id -> the receiver's status."""
        return webhook.deliver_address_updates(self, url, self._address_updates_sent, timeout=timeout)
