"""TikTok Shop Open API client for one shop: signing, tokens, paging, pushes.

TikTok versions each API in its path. The client calls each API's current version: order search,
authorised shops, carriers and inventory update at 202309, order detail at 202507, mark-as-shipped at
202610 (docs/platforms/tiktok.md, with the sources and what is unverified).

Every call is signed: sorted query parameters as key+value, the path in front, the exact body
bytes behind, wrapped in the app secret and HMAC-SHA256'd with it (lowercase hex). Errors mostly
come back inside HTTP 200 with a non-zero `code`, so the classification reads the body first.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from config.accounts import platform_account
from config.schema import ShopConfig
from connectors.http import Transport
from connectors.listings import by_listing
from connectors.paging import token_pages
from connectors.ratelimit import RateLimiter
from connectors.responses import Action, Reading, Responses, Row, by_code
from orderhub.runtime.logs import register_secret
from pipeline.errors import AuthenticationFailed, NeedsReview
from pipeline.ports import Limit, ListedRows, PushOutcome, RawBundle, StockPush, TrackingPush

ACCOUNT_CREDENTIALS = ("app_key", "refresh_token")
"""The credentials naming the TikTok account: rate-limit buckets and the shop-configured-twice rule use them."""


API_HOST = "https://open-api.tiktokglobalshop.com"
AUTH_HOST = "https://auth.tiktok-shops.com"
SEARCH = "/order/202309/orders/search"
DETAIL = "/order/202507/orders"
SHOPS = "/authorization/202309/shops"
INVENTORY = "/product/202309/products/{}/inventory/update"
PROVIDERS = "/logistics/202309/delivery_options/{}/shipping_providers"
MARK_SHIPPED = "/fulfillment/202610/orders/{}/packages"
# TikTok publishes 50 QPS per API, per app and shop (docs/platforms/tiktok.md); these stay well inside it.
DEFAULT_LIMITS: dict[str, Limit] = {
    "searchOrders": Limit(20.0, 20), "getOrderDetail": Limit(20.0, 20), "getAuthorizedShops": Limit(5.0, 5),
    "updateInventory": Limit(20.0, 20), "markPackageAsShipped": Limit(20.0, 20), "refreshToken": Limit(2.0, 5),
    "getShippingProviders": Limit(5.0, 5),
}
TOKEN_CODES = {105001, 105002, 105003, 105004, 105005, 36004004}
RETRYABLE_CODES = {36009003}
THROTTLED_CODE = 36009002
AUTH_CODES = {106001, 36009004} | TOKEN_CODES
MAX_STOCK = 99_999


def sign(path: str, params: Mapping[str, str], body: bytes, app_secret: str) -> str:
    """The request signature: HMAC-SHA256(secret, secret + path + sorted k+v + body + secret), hex."""
    pairs = "".join(f"{k}{params[k]}" for k in sorted(params) if k not in ("sign", "access_token")
                    and not isinstance(params[k], list | tuple))
    message = f"{app_secret}{path}{pairs}".encode() + body + app_secret.encode()
    return hmac.new(app_secret.encode(), message, hashlib.sha256).hexdigest()


def read_envelope(body: Any) -> Reading:
    """`{code, message, data}`: code 0 is success, any other code an error (HTTP 200 all the same)."""
    if not isinstance(body, dict):
        return Reading()
    code, message = body.get("code"), str(body.get("message", ""))
    if code == 0:
        return Reading(Action.OK, None, message)
    if code is None:
        return Reading(message=message)  # no envelope: `silent` below decides
    return Reading(Action.REJECTED, str(code), message)


classify = Responses(
    read=read_envelope,
    codes=by_code({Action.RATE_LIMITED: {THROTTLED_CODE}, Action.RETRYABLE: RETRYABLE_CODES, Action.AUTH: AUTH_CODES}),
    # Differs from the default table: TikTok reports bad credentials as codes in its envelope (AUTH_CODES;
    # 105002 is refreshed once by `_call`). An answer without the envelope says nothing about the
    # credentials, so it is refused for review whatever its status, an HTTP 401/403 included.
    silent=Row(Action.REJECTED),
)


class TikTokClient:
    def __init__(self, shop: ShopConfig, secrets: Mapping[str, str], limiter: RateLimiter) -> None:
        self.shop = shop
        self.app_key = secrets["app_key"]
        self._app_secret = secrets["app_secret"]
        self._refresh_token = secrets["refresh_token"]
        self._wanted_shop = secrets.get("shop_id")
        self.base = (shop.base_url or API_HOST).rstrip("/")
        self.auth_base = self.base if shop.base_url else AUTH_HOST
        self.transport = Transport("tiktok", shop.shop_id, platform_account(shop, secrets, ACCOUNT_CREDENTIALS), limiter,
                                   DEFAULT_LIMITS | dict(shop.rate_limits))
        self._token: str | None = secrets.get("access_token")
        self._token_expires = 0.0 if self._token is None else float("inf")
        self._cipher: str | None = None
        self._providers: dict[str, str] | None = None
        # The app key and shop cipher travel in every URL: keep them out of any log line.
        register_secret(self.app_key)

    # -- auth ------------------------------------------------------------------------------

    def access_token(self, *, force: bool = False) -> str:
        if force or self._token is None or time.time() > self._token_expires - 300:
            params = {"app_key": self.app_key, "app_secret": self._app_secret,
                      "refresh_token": self._refresh_token, "grant_type": "refresh_token"}
            _, body = self.transport.call("refreshToken", lambda: {
                "method": "GET", "url": f"{self.auth_base}/api/v2/token/refresh", "params": params}, classify)
            data = body["data"]
            self._token = data["access_token"]
            register_secret(self._token)
            self._token_expires = float(data.get("access_token_expire_in") or time.time() + 3600)
            if data.get("refresh_token"):
                self._refresh_token = data["refresh_token"]
                register_secret(self._refresh_token)
        return self._token

    def shop_cipher(self) -> str:
        if self._cipher is None:
            shops = self._call("getAuthorizedShops", "GET", SHOPS, with_cipher=False)["shops"]
            chosen = next((s for s in shops if s.get("id") == self._wanted_shop), None) \
                or next((s for s in shops if s.get("region") == self.shop.region), None) or (shops[0] if shops else None)
            if chosen is None:
                raise AuthenticationFailed(self.shop.shop_id, "the app is authorised for no shop")
            self._cipher = chosen["cipher"]
            register_secret(self._cipher)
        return self._cipher

    def _call(self, operation: str, method: str, path: str, *, query: Mapping[str, Any] | None = None,
              body: Any = None, with_cipher: bool = True) -> Any:
        """A signed call; a token refused mid-life (105002) is refreshed once before giving up."""
        raw = b"" if body is None else orjson.dumps(body)

        def build() -> dict[str, Any]:
            params = {"app_key": self.app_key, "timestamp": str(int(time.time()))}
            if with_cipher:
                params["shop_cipher"] = self.shop_cipher()
            params.update({k: str(v) for k, v in (query or {}).items()})
            params["sign"] = sign(path, params, raw if method != "GET" else b"", self._app_secret)
            headers = {"x-tts-access-token": self.access_token(), "content-type": "application/json"}
            return {"method": method, "url": self.base + path, "params": params, "headers": headers,
                    "data": raw if method != "GET" else None}

        try:
            _, reply = self.transport.call(operation, build, classify)
        except AuthenticationFailed as exc:
            if "105002" not in exc.detail:
                raise
            self.access_token(force=True)
            _, reply = self.transport.call(operation, build, classify)
        return reply.get("data") or {}

    # -- orders ------------------------------------------------------------------------------

    def sync_horizon(self, now: datetime) -> datetime:
        return now

    def changed_orders(self, since: datetime, until: datetime, listed: ListedRows | None = None
                       ) -> Iterator[list[RawBundle]]:
        """Search pages: each row is a whole order, so there is nothing for `listed` to save."""
        window = {"update_time_ge": int(since.timestamp()), "update_time_lt": int(until.timestamp())}

        def fetch(token: str | None) -> tuple[list[dict[str, Any]], str | None]:
            query = {"page_size": 100, "sort_field": "update_time", "sort_order": "ASC"}
            if token:
                query["page_token"] = token
            data = self._call("searchOrders", "POST", SEARCH, query=query, body=window)
            return data.get("orders", []), data.get("next_page_token")

        for orders in token_pages(fetch, what="tiktok orders/search"):
            yield [{"order": order} for order in orders]

    def fetch_order(self, external_id: str) -> RawBundle:
        data = self._call("getOrderDetail", "GET", DETAIL, query={"ids": external_id})
        orders = data.get("orders") or []
        if not orders:
            raise NeedsReview(f"tiktok order {external_id} not found")
        return {"order": orders[0]}

    # -- pushes ------------------------------------------------------------------------------

    def push_stock(self, pushes: Sequence[StockPush]) -> list[PushOutcome]:
        """One inventory update per product, holding all of its SKUs (the API's own batching)."""
        by_product, outcomes = by_listing(pushes, "no TikTok product id in the SKU map")
        for product_id, group in by_product.items():
            body = {"skus": [{"id": p.platform_sku, "inventory": [{"quantity": max(0, min(MAX_STOCK, p.quantity))}]}
                             for p in group]}
            data = self._call("updateInventory", "POST", INVENTORY.format(product_id), body=body)
            failed = {str((e.get("detail") or {}).get("sku_id")): e for e in data.get("errors", [])}
            for p in group:
                why = failed.get(p.platform_sku)
                outcomes.append(PushOutcome(p.platform_sku, True) if why is None else PushOutcome(
                    p.platform_sku, False, str(why.get("message", "")), str(why.get("code") or "")))
        return outcomes

    def shipping_provider_id(self, delivery_option_id: str, carrier: str) -> str:
        """TikTok's id for a carrier name, from the delivery option's provider list (cached)."""
        if self._providers is None:
            data = self._call("getShippingProviders", "GET", PROVIDERS.format(delivery_option_id))
            self._providers = {p["name"].lower(): p["id"] for p in data.get("shipping_providers", [])}
        found = self._providers.get(carrier.lower())
        if found is None:
            raise NeedsReview(f"tiktok has no shipping provider named {carrier!r} for this shop")
        return found

    def push_tracking(self, push: TrackingPush) -> PushOutcome:
        """Mark the package shipped with every unit id it holds (202610: items as `order_line_list`, the
        one tracking number in `shipping_info_list`). TikTok's warning about a tracking number that does
        not match the carrier comes back with an accepted push, as its message."""
        order = self.fetch_order(push.external_id)["order"]
        provider = self.shipping_provider_id(str(order.get("delivery_option_id", "")), push.carrier)
        body = {"order_line_list": [{"order_line_id": item.line_id} for item in push.items],
                "shipping_info_list": [{"tracking_number": push.tracking_number, "shipping_provider_id": provider}]}
        data = self._call("markPackageAsShipped", "POST", MARK_SHIPPED.format(push.external_id), body=body)
        warning = (data.get("warning") or {}).get("message") or ""
        return PushOutcome(push.external_id, True, str(warning))


def verify_webhook(app_key: str, app_secret: str, raw_body: bytes, authorization: str | None) -> bool:
    """TikTok signs pushes with `Authorization: hex(HMAC-SHA256(app_secret, app_key + body))`."""
    if not authorization:
        return False
    expected = hmac.new(app_secret.encode(), app_key.encode() + raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, authorization.strip().lower())
