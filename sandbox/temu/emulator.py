"""TEMU Open Platform emulator (LOCAL and SEMI malls): one signed POST router, orders, pushes, webhooks.

Behaviour follows docs/platforms/temu.md (each fact with its public source). TEMU has three
regional routers (US, EU, GLOBAL); here they are path prefixes on one server:
``/us/openapi/router``, ``/eu/openapi/router`` and ``/global/openapi/router``. A shop calling
another region's router is refused the way a gateway that does not know its token would (3000031).
The API is chosen by the ``type`` body parameter, so counters and fault filters are per type; the
published limit (20 QPS per app_key) is one bucket per app_key across every type (``APP_BUCKET``). Order reads
live in ``sandbox.temu.orders``, pushes in ``sandbox.temu.push``, webhooks in ``sandbox.temu.webhook``; this
module keeps the router, signing and auth. ``bg.order.decryptshippinginfo.get`` answers
only the malls in ``decrypt_malls`` (the seller authorised it for the token); the others get the gateway's
3000032, before any business check, as TEMU's gateway would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sandbox.core.buckets import RateDecision, RateLimit, RateLimiter
from sandbox.core.control import mount_stock_controls
from sandbox.core.demo_accounts import TEMU_DEMO_SHOPS, TemuCredentials
from sandbox.core.http_types import Request, Response, Route
from sandbox.core.listings import ListingIndex, levels_of
from sandbox.core.orders import GeneratedOrder
from sandbox.core.server import Emulator
from sandbox.core.world import CATALOGUE, CatalogueItem
from sandbox.temu import orders, push, webhook
from sandbox.temu.shapes import TemuView, envelope, goods_id, parent_order_sn, sku_id, unix, view

APP_BUCKET = "router"  # the rate-limit entry metering an app_key across every API type
DEFAULT_RATE_LIMITS = {APP_BUCKET: RateLimit(20, 20)}  # 20 QPS per app_key (docs/platforms/temu.md); burst [INFERRED]
ROUTER_PATH = re.compile(r"^/(?P<host>us|eu|global)/openapi/router$")
HOSTS = {"us": "US", "eu": "EU", "global": "GLOBAL"}

E_BAD_PARAMS = 3000000
E_SIGN = (3000001, "SIGN_UNVALID: the sign does not match the request")
E_TYPE_MISSING = (3000002, "type is missing")
E_TYPE_UNKNOWN = (3000003, "type does not exist")
E_TS_MISSING = (3000010, "timestamp is missing")
E_TS_INVALID = (3000011, "timestamp is invalid")
E_TS_EXPIRED = (3000012, "timestamp is expired")
E_DATA_TYPE_MISSING = (3000013, "data_type is missing")
E_DATA_TYPE = (3000014, "data_type is invalid")
E_APP_KEY_MISSING = (3000025, "app_key is missing")
E_APP_KEY = (3000026, "app_key not found")
E_TOKEN_MISSING = (3000030, "access_token is missing")
E_TOKEN = (3000031, "access_token not found")
E_TOKEN_APP = (3000033, "access_token does not belong to the app_key")
E_NO_API_ACCESS = (3000032, "access_token don't have this api access, please ask for seller to authorize this api in "
                            "seller center first, and share the new access_token with you.")
E_SIGN_MISSING = (3000040, "sign is missing")
E_THROTTLED = (4000004, "RATE_LIMIT_EXCEED_EXCEPTION")
E_SYSTEM = (4000000, "SYSTEM_EXCEPTION")
DECRYPT = "bg.order.decryptshippinginfo.get"


def render_value(value: Any) -> str:
    """A value as the signature sees it: compact JSON, with a string's surrounding quotes stripped."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text[1:-1] if isinstance(value, str) else text


def sign(params: Mapping[str, Any], app_secret: str) -> str:
    """docs/platforms/temu.md: MD5(secret + sorted k+v + secret), uppercase hex; the emulator's own copy."""
    joined = "".join(k + render_value(params[k]) for k in sorted(params) if k != "sign")
    return hashlib.md5((app_secret + joined + app_secret).encode("utf-8")).hexdigest().upper()


class AppRateLimiter(RateLimiter):
    """Every call first takes from its app_key's shared ``APP_BUCKET``, then from its type's own bucket."""

    def take(self, account: str, operation: str) -> RateDecision:
        shared = super().take(account, APP_BUCKET)
        return super().take(account, operation) if shared.allowed else shared


class TemuEmulator(Emulator):
    platform = "temu"
    default_rate_limits = DEFAULT_RATE_LIMITS

    def __init__(self, shops: tuple[TemuCredentials, ...] = TEMU_DEMO_SHOPS, *,
                 timestamp_tolerance: int | None = 300, delivered_after: timedelta = timedelta(days=3),
                 throttle_status: int = 200, catalogue: tuple[CatalogueItem, ...] | None = None,
                 pricing_delay: timedelta = timedelta(0), decrypt_malls: Iterable[str] | None = None,
                 **settings: Any) -> None:
        """``delivered_after``: when a shipped order turns DELIVERED (5), since TEMU reports delivery and
        the neutral generator does not. ``throttle_status``: the HTTP status of a 4000004 answer, not
        documented (200 assumed). ``catalogue``: the goods and skus stock edits accept (default
        ``world.CATALOGUE``). ``pricing_delay``: how long after an order is placed TEMU is still
        calculating its amounts and ``bg.order.amount.query`` answers 140020008 (default none: priced at once;
        how long it really takes is not published). ``decrypt_malls``: the mall ids whose token may call
        ``bg.order.decryptshippinginfo.get`` (default: the shops with ``decrypt_shipping``); a set, so a test
        can grant or withdraw it while the emulator runs."""
        self.shops = {s.access_token: s for s in shops}
        self.malls = {s.mall_id: s for s in shops}
        self._by_country = {country: s for s in shops for country in s.countries}
        self.timestamp_tolerance, self.delivered_after = timestamp_tolerance, delivered_after
        self.throttle_status = throttle_status
        self.pricing_delay = pricing_delay
        self.decrypt_malls = set(decrypt_malls) if decrypt_malls is not None else {
            s.mall_id for s in shops if s.decrypt_shipping}
        self.listings = ListingIndex(CATALOGUE if catalogue is None else catalogue,
                                     lambda item: sku_id(item.sku), lambda item: goods_id(item.family))
        self.stock: dict[tuple[str, str], int] = {}  # (mall_id, sku id) -> stock
        self.presale_stock: dict[tuple[str, str], int] = {}  # the same for stockType 1 (pre-sale stock)
        # (mall_id, requestUniqueKey) -> (body digest, the answer given): a used key is not applied again
        self.stock_requests: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        self.used_tracking: dict[str, str] = {}  # tracking number -> mall that used it
        self._typed_routes: dict[str, Route] = {}
        super().__init__(**settings)
        mount_stock_controls(self, self)
        self.limiter = AppRateLimiter(self.clock, self.limiter.limits)
        self.handlers: dict[str, Callable[[Request], Response]] = {
            "bg.order.list.v2.get": lambda req: orders.list_orders(self, req),
            "bg.order.detail.v2.get": lambda req: orders.detail(self, req),
            "bg.order.shippinginfo.v2.get": lambda req: orders.shipping_info(self, req),
            DECRYPT: lambda req: orders.decrypted_shipping(self, req),
            "bg.order.amount.query": lambda req: orders.amount(self, req),
            "bg.local.goods.stock.edit": lambda req: push.stock_edit(self, req),
            "bg.local.goods.sku.list.query": lambda req: push.sku_list(self, req),
            "bg.logistics.companies.get": lambda req: push.companies(self, req),
            "bg.logistics.warehouse.list.get": lambda req: push.warehouses(self, req),
            "bg.logistics.shipment.v2.confirm": lambda req: push.shipment_confirm(self, req),
        }

    # --- Emulator hooks ------------------------------------------------------------------------
    def countries(self) -> tuple[str, ...]:
        return tuple(self._by_country)

    def assign(self, order: GeneratedOrder) -> str:
        order.account = self._by_country[order.country].mall_id
        return parent_order_sn(order)

    def warehouse_id(self, mall_id: str) -> str:
        return "WH-" + mall_id[-4:] + "-01"

    # --- stock, for tests and demo config ------------------------------------------------------
    def stock_listings(self, account: str | None = None) -> list[dict[str, str | None]]:
        """The SKU map rows of a LOCAL mall: skuId under its goodsId (``bg.local.goods.stock.edit``).

        The ids are the same in every LOCAL mall. A SEMI mall cannot edit stock (TEMU manages it and
        the edit is refused with 140020001), so asking for a SEMI mall's rows is an error, not [].
        """
        if account is not None:
            shop = self.malls.get(account)
            if shop is None:
                raise ValueError(f"no TEMU mall {account!r}; known: {sorted(self.malls)}")
            if shop.mall_type != "LOCAL":
                raise ValueError(f"TEMU mall {account} is {shop.mall_type}: only LOCAL malls edit stock")
        return self.listings.rows()

    def stock_levels(self, account: str | None = None) -> dict[str, int]:
        """skuId -> the last accepted stockTarget in mall ``account`` (default: the first LOCAL mall);
        ``bg.local.goods.sku.list.query`` answers the same numbers."""
        default = next((m for m, shop in self.malls.items() if shop.mall_type == "LOCAL"), None)
        with self.lock:
            return levels_of(self.stock, account or default or "")

    def _match(self, request: Request) -> Route | None:
        """Control routes first; then the router, one route per API ``type`` (so counters are per type)."""
        route = super()._match(request)
        found = ROUTER_PATH.match(request.path)
        if route is not None or request.method != "POST" or not found:
            return route
        request.params = {"host": found["host"]}
        body = request.json_object()
        api_type = body.get("type") if body else None
        operation = api_type if api_type in self.handlers else "router.unknown_type"
        if operation not in self._typed_routes:
            handler = self.handlers.get(operation, self._unknown_type)
            self._typed_routes[operation] = Route("POST", "/{host}/openapi/router", operation, handler)
        return self._typed_routes[operation]

    def authenticate(self, request: Request, route: Route) -> Response | str:
        body = request.json_object()
        if body is None:
            return self.error((E_BAD_PARAMS, "BAD_PARAMS: the body must be a JSON object"))
        app_key = body.get("app_key")
        apps = {s.app_key: s.app_secret for s in self.shops.values()}
        if not app_key:
            return self.error(E_APP_KEY_MISSING)
        if app_key not in apps:
            return self.error(E_APP_KEY)
        if not body.get("sign"):
            return self.error(E_SIGN_MISSING)
        rejected = self._check_timestamp(body.get("timestamp"))
        if rejected is not None:
            return rejected
        if not hmac.compare_digest(sign(body, apps[app_key]), str(body["sign"])):
            return self.error(E_SIGN)
        if "data_type" not in body:
            return self.error(E_DATA_TYPE_MISSING)
        if body["data_type"] != "JSON":
            return self.error(E_DATA_TYPE)
        token = body.get("access_token")
        if not token:
            return self.error(E_TOKEN_MISSING)
        shop = self.shops.get(token)
        if shop is None or shop.host != HOSTS[request.params["host"]]:
            return self.error(E_TOKEN)  # another region's gateway does not know this token (docs/platforms/temu.md)
        if shop.app_key != app_key:
            return self.error(E_TOKEN_APP)
        if route.operation == DECRYPT and shop.mall_id not in self.decrypt_malls:
            return self.error(E_NO_API_ACCESS)  # the token's API scope lacks it (docs/platforms/temu.md)
        request.caller = shop
        return app_key

    def throttled(self, request: Request, route: Route, retry_after: float) -> Response:
        return envelope(None, *E_THROTTLED, status=self.throttle_status, now=self.clock.now())

    def server_error(self, request: Request, status: int) -> Response:
        return envelope(None, *E_SYSTEM, status=status, now=self.clock.now())

    def not_found(self, request: Request) -> Response:
        return Response.json(404, {"error": "not found", "path": request.path})

    def order_summary(self, oid: str, order: GeneratedOrder, now: datetime) -> dict[str, Any]:
        seen = self.view(order, now)
        return {"id": oid, "account": order.account, "status": seen.status,
                "updated_at": seen.updated_at.isoformat(), "update_time": unix(seen.updated_at),
                "mall_type": self.malls[order.account].mall_type}

    def error(self, failure: tuple[int, str]) -> Response:
        return envelope(None, failure[0], failure[1], now=self.clock.now())

    def bad_params(self, message: str) -> Response:
        return self.error((E_BAD_PARAMS, f"BAD_PARAMS: {message}"))

    def view(self, order: GeneratedOrder, now: datetime) -> TemuView:
        return view(order, now, self.delivered_after)

    def owned_order(self, shop: TemuCredentials, sn: Any) -> GeneratedOrder | None:
        order = self.orders.get(sn) if isinstance(sn, str) else None
        if order is None or order.account != shop.mall_id or not order.visible(self.clock.now()):
            return None
        return order

    def _check_timestamp(self, raw: Any) -> Response | None:
        if raw is None:
            return self.error(E_TS_MISSING)
        if isinstance(raw, bool) or not str(raw).isdigit():
            return self.error(E_TS_INVALID)
        if self.timestamp_tolerance is None:
            return None
        # Against the wall clock: clients stamp real time; the sandbox clock is business time.
        if abs(int(raw) - int(time.time())) > self.timestamp_tolerance:
            return self.error(E_TS_EXPIRED)
        return None

    def _unknown_type(self, request: Request) -> Response:
        body = request.json_object() or {}
        return self.error(E_TYPE_MISSING if not body.get("type") else E_TYPE_UNKNOWN)

    # --- webhooks (sandbox.temu.webhook) -------------------------------------------------------
    def send_order_webhook(self, url: str, oid: str, *, forge: bool = False, timeout: float = 5.0) -> int:
        """POST an encrypted, signed ``bg_order_status_change_event`` for ``oid``; returns the status."""
        return webhook.send_order_status(self, url, oid, forge=forge, timeout=timeout)

    def send_address_webhook(self, url: str, oid: str, *, forge: bool = False, timeout: float = 5.0) -> int:
        """POST a ``bg_trade_logistics_address_changed`` for ``oid``, whose changed address must be visible
        now (TEMU tells of a change that happened; a re-read then shows the new ship-to)."""
        return webhook.send_address_changed(self, url, oid, forge=forge, timeout=timeout)

    def address_changes(self) -> list[str]:
        """The visible orders whose buyer changed the address (what ``send_address_webhook`` tells of)."""
        return webhook.address_changes(self)
