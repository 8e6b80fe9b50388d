"""TikTok Shop emulator: token refresh, signed calls, authorised shops, order search and detail.

Behaviour follows docs/platforms/tiktok.md (each fact with its public source) and the error texts
of TikTok's common-errors page: every call is signed (HMAC-SHA256 over path + sorted query + raw body, wrapped in the app
secret), errors come back as HTTP 200 with a non-zero ``code``, throttling as HTTP 429 with
``retry-after`` and code 36009002. Pushes live in ``sandbox.tiktok.push``, webhooks in ``sandbox.tiktok.webhook``.

Versions: TikTok versions each API in its path and keeps a superseded version for a while, so the
emulator serves every version docs/platforms/tiktok.md lists as served (order detail 202309 and 202507,
mark-as-shipped 202309 and 202610), each version of one API drawing on the same rate-limit bucket. Any
other version of a known path is refused with 36009014, as TikTok refuses a retired one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
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
from sandbox.core.generator import GeneratedOrder, stable_digits
from sandbox.core.http_types import Request, Response, Route
from sandbox.core.listings import ListingIndex, levels_of
from sandbox.core.server import Emulator
from sandbox.core.world import CATALOGUE, CatalogueItem
from sandbox.tiktok import push, webhook
from sandbox.tiktok.shapes import (
    ALL_STATUSES,
    MALFORMATIONS,
    ORDER_STATUS,
    SHIPPING_PROVIDERS,
    envelope,
    order_id,
    param_error,
    product_id,
    render_order,
    shipping_type,
    sku_id,
    unix,
)

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
E_APP_KEY = (36009004, "Invalid credentials. Invalid `app_key` query parameter.")
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
class TikTokGrant:
    shop_ids: tuple[str, ...]
    open_id: str
    expires_at: datetime


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
        self._token_key = secrets.token_bytes(16)
        super().__init__(**settings)
        mount_stock_controls(self, self)
        self.route("GET", "/api/v2/token/refresh", "refreshToken", self._refresh, auth=False)
        self.route("GET", "/authorization/202309/shops", "getAuthorizedShops", self._shops)
        self.route("POST", "/order/202309/orders/search", "searchOrders", self._search)
        self.route("GET", "/logistics/202309/delivery_options/{delivery_option_id}/shipping_providers",
                   "getShippingProviders", self._shipping_providers)
        for version in ("202309", "202507"):  # the same document in every sandbox market (docs)
            self.route("GET", f"/order/{version}/orders", "getOrderDetail", self._detail)
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
        self.grants[token] = TikTokGrant((shop_id,), _open_id(shop_id), expires)
        return token

    def _refresh(self, request: Request) -> Response:
        if request.arg("grant_type") != "refresh_token":
            return self._auth_failure(param_error("grant_type", "unsupported grant type", "refresh_token"))
        shop = next((s for s in self.shops.values() if s.refresh_token == request.arg("refresh_token")), None)
        apps = {(s.app_key, s.app_secret) for s in self.shops.values()}
        if (request.arg("app_key"), request.arg("app_secret")) not in apps:
            return self._auth_failure(self.error(E_APP_KEY))
        if shop is None or shop.app_key != request.arg("app_key"):
            return self._auth_failure(self.error((36004004, "Invalid refresh token.")))
        token = self.issue_access_token(shop.shop_id)
        now = self.clock.now()
        return envelope({
            "access_token": token, "access_token_expire_in": self._wall_unix(self.grants[token].expires_at),
            "refresh_token": shop.refresh_token, "refresh_token_expire_in": self._wall_unix(now + timedelta(days=365)),
            "open_id": _open_id(shop.shop_id), "seller_name": shop.shop_name,
            "seller_base_region": shop.region, "user_type": 0,
            "granted_scopes": ["seller.order.info", "seller.fulfillment.basic", "seller.product.basic"],
        }, message="success", now=now)

    def _wall_unix(self, moment: datetime) -> int:
        """A sandbox instant as the real unix time a client reaches it. Clients compare token expiry with
        their own clock; against a sandbox clock set in the past every token would look expired already
        and be refreshed before each call."""
        ahead = (moment - self.clock.now()).total_seconds()
        factor = self.clock.factor
        return int(time.time() + (ahead / factor if factor > 0 else ahead))

    def _auth_failure(self, response: Response) -> Response:
        self.counters.add("refreshToken", "auth_failures")
        return response

    def _shops(self, request: Request) -> Response:
        grant: TikTokGrant = request.caller.grant
        shops = [{"id": s.shop_id, "name": s.shop_name, "region": s.region, "seller_type": "LOCAL",
                  "cipher": s.shop_cipher, "code": f"{s.region}LCODEMO{s.shop_id[-3:]}"}
                 for sid in grant.shop_ids if (s := self.shops.get(sid))]
        return envelope({"shops": shops}, now=self.clock.now())

    def _shipping_providers(self, request: Request) -> Response:
        """The carriers a delivery option offers (every sandbox option offers every carrier)."""
        providers = [{"id": pid, "name": name} for pid, name in SHIPPING_PROVIDERS.items()]
        return envelope({"shipping_providers": providers}, now=self.clock.now())

    # --- orders --------------------------------------------------------------------------------
    def _search(self, request: Request) -> Response:
        shop: TikTokCredentials = request.caller.shop
        size = request.arg("page_size")
        if size is None or not size.isdigit() or not 1 <= int(size) <= 100:
            return param_error("page_size", f"got {size!r}", "an integer from 1 to 100")
        sort_field = request.arg("sort_field", "create_time")
        sort_order = request.arg("sort_order", "DESC")
        if sort_field not in ("create_time", "update_time"):
            return param_error("sort_field", f"got {sort_field!r}", "create_time or update_time")
        if sort_order not in ("ASC", "DESC"):
            return param_error("sort_order", f"got {sort_order!r}", "ASC or DESC")
        try:
            body = request.json() or {}
        except ValueError:
            return param_error("body", "not valid JSON", "a JSON object")
        filters = _filters(body)
        if isinstance(filters, Response):
            return filters
        now = self.clock.now()
        page_token = request.arg("page_token")
        snapshot, cursor = unix(now), None
        if page_token:
            decoded = self._decode(page_token, shop.shop_id, [filters, sort_field, sort_order])
            if decoded is None:
                return param_error("page_token", "it is invalid or belongs to another search", "the next_page_token "
                                   "returned with the same filters")
            snapshot, cursor = decoded["snapshot"], decoded["cursor"]
        rows = self._matching(shop.shop_id, filters, snapshot, now, sort_field)
        rows.sort(key=lambda r: (r[0], r[1]), reverse=sort_order == "DESC")
        total = len(rows)
        if cursor is not None:
            after = tuple(cursor)
            rows = [r for r in rows if ((r[0], r[1]) < after if sort_order == "DESC" else (r[0], r[1]) > after)]
        page, more = rows[:int(size)], len(rows) > int(size)
        next_token = ""
        if more:
            last = page[-2] if len(page) > 1 and self.faults.duplicates_after(page[-1][1]) else page[-1]
            next_token = self._encode({"snapshot": snapshot, "cursor": [last[0], last[1]]}, shop.shop_id,
                                      [filters, sort_field, sort_order])
        orders = [self._render(oid, order, now) for _, oid, order in page]
        return envelope({"next_page_token": next_token, "total_count": total, "orders": orders}, now=now)

    def _matching(self, shop_id: str, filters: dict[str, Any], snapshot: int, now: datetime,
                  sort_field: str) -> list[tuple[int, str, GeneratedOrder]]:
        window = dict(filters)
        for field in ("create_time", "update_time"):  # a missing end defaults to now (the first page's now)
            if f"{field}_ge" in filters and f"{field}_lt" not in filters:
                window[f"{field}_lt"] = snapshot
        rows = []
        for oid, order in self.orders.items():
            if order.account != shop_id or not order.visible(now):
                continue
            state = order.state(now)
            times = {"create_time": unix(order.created_at), "update_time": unix(state.updated_at)}
            if not _in_window(times, window):
                continue
            if filters.get("order_status") and ORDER_STATUS[state.status] != filters["order_status"]:
                continue
            if filters.get("shipping_type") and shipping_type(order) != filters["shipping_type"]:
                continue
            rows.append((times[sort_field], oid, order))
        return rows

    def _detail(self, request: Request) -> Response:
        shop: TikTokCredentials = request.caller.shop
        ids = [i for i in (request.arg("ids") or "").split(",") if i]
        if not ids or len(ids) > 50:
            return param_error("ids", f"{len(ids)} ids given", "1 to 50 comma-separated order ids")
        now = self.clock.now()
        found = [(oid, self.orders.get(oid)) for oid in ids]
        orders = [self._render(oid, order, now) for oid, order in found
                  if order is not None and order.account == shop.shop_id and order.visible(now)]
        return envelope({"orders": orders}, now=now)

    def _render(self, oid: str, order: GeneratedOrder, now: datetime) -> dict[str, Any]:
        return render_order(oid, order, order.state(now), self.warehouse_id(order.account), self.always_mask,
                            self.faults.malformation(oid, MALFORMATIONS))

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

    # --- page tokens ---------------------------------------------------------------------------
    def _encode(self, state: dict[str, Any], shop_id: str, search: list[Any]) -> str:
        data = json.dumps({"shop": shop_id, "search": search, "state": state}, sort_keys=True, separators=(",", ":"))
        mac = hmac.new(self._token_key, data.encode(), hashlib.sha256).hexdigest()[:16]
        return base64.b64encode(f"{mac}{data}".encode()).decode()

    def _decode(self, token: str, shop_id: str, search: list[Any]) -> dict[str, Any] | None:
        try:
            raw = base64.b64decode(token, validate=True).decode()
            envelope_ = json.loads(raw[16:])
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        mac = hmac.new(self._token_key, raw[16:].encode(), hashlib.sha256).hexdigest()[:16]
        if not hmac.compare_digest(mac, raw[:16]) or envelope_.get("shop") != shop_id:
            return None
        if envelope_.get("search") != json.loads(json.dumps(search)):
            return None
        return envelope_["state"]


def _open_id(shop_id: str) -> str:
    return "70107" + stable_digits("tt-open-id", shop_id, length=14)


TIME_FILTERS = ("create_time_ge", "create_time_lt", "update_time_ge", "update_time_lt")


def _filters(body: Any) -> dict[str, Any] | Response:
    if not isinstance(body, dict):
        return param_error("body", "not a JSON object", "a JSON object")
    filters: dict[str, Any] = {}
    for name in TIME_FILTERS:
        if name in body:
            value = body[name]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                return param_error(name, f"got {value!r}", "unix seconds as an integer")
            filters[name] = value
    if "order_status" in body:
        if body["order_status"] not in ALL_STATUSES:
            return param_error("order_status", f"got {body['order_status']!r}", f"one of {sorted(ALL_STATUSES)}")
        filters["order_status"] = body["order_status"]
    if "shipping_type" in body:
        if body["shipping_type"] not in ("TIKTOK", "SELLER"):
            return param_error("shipping_type", f"got {body['shipping_type']!r}", "TIKTOK or SELLER")
        filters["shipping_type"] = body["shipping_type"]
    return filters


def _in_window(times: dict[str, int], filters: dict[str, Any]) -> bool:
    """``*_ge`` inclusive, ``*_lt`` exclusive (docs/platforms/tiktok.md)."""
    for field in ("create_time", "update_time"):
        if f"{field}_ge" in filters and times[field] < filters[f"{field}_ge"]:
            return False
        if f"{field}_lt" in filters and times[field] >= filters[f"{field}_lt"]:
            return False
    return True
