"""AliExpress emulator: the IOP gateway (``/sync``, one URL, the API named by ``method``) and the
"solution" order, address, inventory and fulfilment APIs (docs/platforms/aliexpress.md).

Every call is signed (HMAC-SHA256, uppercase hex, over the sorted key+value of every parameter but
``sign``); gateway failures come back as ``{type, code, message, request_id}``, business failures
as ``result.success: false``. Counters and rate buckets are kept per API method, as AliExpress
meters them. Pushes live in ``sandbox.aliexpress.push``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

from sandbox.aliexpress import push
from sandbox.aliexpress.shapes import (
    ALL_STATUSES,
    MALFORMATIONS,
    ORDER_STATUS,
    answer,
    business_error,
    detail,
    gateway_error,
    json_param,
    order_id,
    pacific,
    parse_pacific,
    product_id,
    receipt_address,
    render_order,
)
from sandbox.core.buckets import RateLimit
from sandbox.core.control import mount_stock_controls
from sandbox.core.demo_accounts import ALIEXPRESS_DEMO_ACCOUNTS, AliExpressCredentials
from sandbox.core.http_types import Request, Response, Route
from sandbox.core.listings import ListingIndex, levels_of
from sandbox.core.orders import GeneratedOrder
from sandbox.core.server import Emulator
from sandbox.core.world import CATALOGUE, CatalogueItem

ORDER_LIST = "aliexpress.solution.order.get"
ORDER_DETAIL = "aliexpress.solution.order.info.get"
ORDER_ADDRESS = "aliexpress.solution.order.receiptinfo.get"
STOCK_UPDATE = "aliexpress.solution.batch.product.inventory.update"
FULFIL = "aliexpress.solution.order.fulfill"
# QPS is not published (docs/platforms/aliexpress.md): plausible defaults, override per test.
DEFAULT_RATE_LIMITS = {ORDER_LIST: RateLimit(20, 20), ORDER_DETAIL: RateLimit(20, 20),
                       ORDER_ADDRESS: RateLimit(40, 40), STOCK_UPDATE: RateLimit(10, 10), FULFIL: RateLimit(10, 10)}
# The largest page_size order.get serves. Not published (samples use 20); 50 is assumed.
MAX_PAGE_SIZE = 50
DEFAULT_PAGE_SIZE = 20
DATE_FILTERS = ("create_date_start", "create_date_end", "modified_date_start", "modified_date_end")


def sign(params: dict[str, str], app_secret: str) -> str:
    """docs/platforms/aliexpress.md, the emulator's own copy: sorted key+value (no ``sign``), HMAC-SHA256, upper hex."""
    message = "".join(k + params[k] for k in sorted(params) if k != "sign")
    return hmac.new(app_secret.encode(), message.encode(), hashlib.sha256).hexdigest().upper()


class AliExpressEmulator(Emulator):
    """One app, one seller per access token; ``throttle_status`` is the HTTP status of ``ApiCallLimit``
    (200 assumed: inferred, unpublished) and ``timestamp_tolerance`` the allowed clock skew in seconds."""

    platform = "aliexpress"
    default_rate_limits = DEFAULT_RATE_LIMITS

    def __init__(self, accounts: tuple[AliExpressCredentials, ...] = ALIEXPRESS_DEMO_ACCOUNTS, *,
                 timestamp_tolerance: int | None = 600, throttle_status: int = 200,
                 catalogue: tuple[CatalogueItem, ...] | None = None, **settings: Any) -> None:
        """``catalogue``: the products and sku_codes inventory updates accept (default ``world.CATALOGUE``)."""
        self.accounts = {a.seller_login_id: a for a in accounts}
        self._by_token = {a.access_token: a for a in accounts}
        self.timestamp_tolerance, self.throttle_status = timestamp_tolerance, throttle_status
        # The sku_code is the seller SKU (as order lines show it), pushed under its product_id.
        self.listings = ListingIndex(CATALOGUE if catalogue is None else catalogue,
                                     lambda item: item.sku, lambda item: str(product_id(item.family)))
        self.stock: dict[tuple[str, str], int] = {}  # (seller_login_id, sku_code) -> inventory
        handlers: dict[str, Callable[[Request], Response]] = {
            ORDER_LIST: self._list_orders, ORDER_DETAIL: self._order_detail, ORDER_ADDRESS: self._receipt,
            STOCK_UPDATE: lambda req: push.update_inventory(self, req),
            FULFIL: lambda req: push.fulfil(self, req),
        }
        self.methods = {name: Route("POST", "/sync", name, handler) for name, handler in handlers.items()}
        self._unknown = Route("POST", "/sync", "unknown_method", self._unknown_method, auth=False)
        super().__init__(**settings)
        mount_stock_controls(self, self)

    # --- stock, for tests and demo config ------------------------------------------------------
    def stock_listings(self, account: str | None = None) -> list[dict[str, str | None]]:
        """The SKU map rows: sku_code (the seller SKU) under its product_id; the same for every
        seller, so ``account`` is ignored."""
        return self.listings.rows()

    def stock_levels(self, account: str | None = None) -> dict[str, int]:
        """sku_code -> the last accepted inventory of seller ``account`` (default: the first seller)."""
        with self.lock:
            return levels_of(self.stock, account or next(iter(self.accounts)))

    # --- the gateway: one path, the operation named by a parameter -----------------------------
    def _match(self, request: Request) -> Route | None:
        if request.path != "/sync" or request.method not in ("GET", "POST"):
            return super()._match(request)
        params = {k: v[0] for k, v in request.query.items() if v}
        if request.method == "POST" and request.body:
            form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
            params.update({k: v[0] for k, v in form.items() if v})
        request.params = params
        return self.methods.get(params.get("method", ""), self._unknown)

    def _unknown_method(self, request: Request) -> Response:
        return gateway_error("ISV", "InvalidApiName", f"Api {request.params.get('method', '')!r} not found")

    # --- Emulator hooks ------------------------------------------------------------------------
    def countries(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for a in self.accounts.values() for c in a.countries))

    def assign(self, order: GeneratedOrder) -> str:
        order.account = next(a.seller_login_id for a in self.accounts.values() if order.country in a.countries)
        return order_id(order)

    def authenticate(self, request: Request, route: Route) -> Response | str:
        params = request.params
        app = next((a for a in self.accounts.values() if a.app_key == params.get("app_key")), None)
        if app is None:
            return gateway_error("ISV", "InvalidAppKey", "The app key is invalid")
        if params.get("sign_method", "sha256") != "sha256":
            return gateway_error("ISV", "InvalidSignMethod", "Only sha256 is supported")
        stale = self._check_timestamp(params.get("timestamp"))
        if stale:
            return stale
        given = params.get("sign", "")
        if not given or not hmac.compare_digest(sign(params, app.app_secret), given.upper()):
            return gateway_error("ISV", "IncompleteSignature", "The request signature does not conform to "
                                 "platform standards")
        token = params.get("session") or params.get("access_token") or ""
        account = self._by_token.get(token)
        if account is None or account.app_key != app.app_key:
            return gateway_error("ISV", "IllegalAccessToken", "The specified access token is invalid or expired")
        request.caller = account
        return account.seller_login_id

    def throttled(self, request: Request, route: Route, retry_after: float) -> Response:
        return gateway_error("ISP", "ApiCallLimit", "The request has exceeded the api call limit of "
                             f"{route.operation}; retry later", status=self.throttle_status)

    def server_error(self, request: Request, status: int) -> Response:
        return gateway_error("SYSTEM", "ServiceUnavailable", "The service is temporarily unavailable", status)

    def not_found(self, request: Request) -> Response:
        return gateway_error("ISV", "InvalidApiPath", f"No api at {request.path}", 404)

    def order_summary(self, oid: str, order: GeneratedOrder, now: datetime) -> dict[str, Any]:
        state = order.state(now)
        return {"id": oid, "account": order.account, "status": ORDER_STATUS[state.status],
                "updated_at": state.updated_at.isoformat(), "gmt_update": pacific(state.updated_at)}

    def _check_timestamp(self, raw: str | None) -> Response | None:
        if raw is None or not raw.isdigit():
            return gateway_error("ISV", "InvalidTimestamp", "timestamp must be epoch milliseconds")
        if self.timestamp_tolerance is None:
            return None
        # Against the wall clock: clients stamp requests with real time; the sandbox clock is business time.
        if abs(int(raw) / 1000 - time.time()) > self.timestamp_tolerance:
            return gateway_error("ISV", "InvalidTimestamp", "timestamp is out of the allowed range")
        return None

    # --- orders --------------------------------------------------------------------------------
    def owned(self, request: Request, oid: str) -> GeneratedOrder | None:
        order = self.orders.get(oid)
        if order is None or order.account != request.caller.seller_login_id or not order.visible(self.clock.now()):
            return None
        return order

    def _list_orders(self, request: Request) -> Response:
        """order.get. Choices where the published material is silent: page_size 1..50 (else PARAM_ERROR), newest
        created first, date bounds inclusive to the second, query strings read as Pacific with zoneinfo's
        fold=0 (the first of a repeated hour), FINISH (where cancelled orders are) only when named."""
        query = json_param(request, "param0")
        if not isinstance(query, dict):
            return business_error(ORDER_LIST, "PARAM_ERROR", "param0 must be an OrderQuery JSON object")
        size, page = query.get("page_size", DEFAULT_PAGE_SIZE), query.get("current_page", 1)
        if not isinstance(size, int) or not 1 <= size <= MAX_PAGE_SIZE:
            return business_error(ORDER_LIST, "PARAM_ERROR", f"page_size must be 1..{MAX_PAGE_SIZE}")
        if not isinstance(page, int) or page < 1:
            return business_error(ORDER_LIST, "PARAM_ERROR", "current_page must be >= 1")
        window: dict[str, datetime] = {}
        for name in DATE_FILTERS:
            if query.get(name):
                try:
                    window[name] = parse_pacific(str(query[name]))
                except ValueError:
                    return business_error(ORDER_LIST, "PARAM_ERROR", f"{name} must be yyyy-MM-dd HH:mm:ss")
        statuses = set(query.get("order_status_list") or []) | ({query["order_status"]} if query.get("order_status")
                                                                  else set())
        if statuses - ALL_STATUSES:
            return business_error(ORDER_LIST, "PARAM_ERROR", f"unknown order_status {sorted(statuses - ALL_STATUSES)}")
        now = self.clock.now()
        rows = self._matching(request.caller.seller_login_id, window, statuses, now)
        pages = page_bounds([oid for oid, _ in rows], size, self.faults.duplicates_after)
        chosen = rows[slice(*pages[page - 1])] if page <= len(pages) else []
        dtos = [render_order(oid, o, o.state(now), o.account, self.faults.malformation(oid, MALFORMATIONS))
                for oid, o in chosen]
        return answer(ORDER_LIST, {"success": True, "error_code": None, "error_message": None,
                                   "total_count": len(rows), "total_page": len(pages), "current_page": page,
                                   "page_size": size, "target_list": {"order_dto": dtos}})

    def _matching(self, account: str, window: dict[str, datetime], statuses: set[str],
                  now: datetime) -> list[tuple[str, GeneratedOrder]]:
        """Newest first; start and end bounds both inclusive, to the second; FINISH only when named."""
        rows = []
        for oid, order in self.orders.items():
            if order.account != account or not order.visible(now):
                continue
            state = order.state(now)
            status = ORDER_STATUS[state.status]
            wanted = status in statuses if statuses else status != "FINISH"
            if not wanted:
                continue
            times = {"create": order.created_at.replace(microsecond=0),
                     "modified": state.updated_at.replace(microsecond=0)}
            if any(times[f] < window[f"{f}_date_start"] for f in times if f"{f}_date_start" in window):
                continue
            if any(times[f] > window[f"{f}_date_end"] for f in times if f"{f}_date_end" in window):
                continue
            rows.append((oid, order))
        rows.sort(key=lambda r: (r[1].created_at, r[0]), reverse=True)
        return rows

    def _order_detail(self, request: Request) -> Response:
        oid = _order_id_param(request)
        order = self.owned(request, oid) if oid else None
        if order is None:
            return business_error(ORDER_DETAIL, "ORDER_NOT_FOUND", "order not found")
        data = detail(oid, order, order.state(self.clock.now()))
        return answer(ORDER_DETAIL, {"success": True, "error_code": None, "error_message": None, "data": data})

    def _receipt(self, request: Request) -> Response:
        oid = _order_id_param(request)
        order = self.owned(request, oid) if oid else None
        if order is None:
            return business_error(ORDER_ADDRESS, "ORDER_NOT_FOUND", "order not found")
        return answer(ORDER_ADDRESS, receipt_address(order.state(self.clock.now()).address))


def _order_id_param(request: Request) -> str | None:
    query = json_param(request, "param1")
    value = query.get("order_id") if isinstance(query, dict) else None
    return str(value) if isinstance(value, int | str) and not isinstance(value, bool) else None


def page_bounds(ids: list[str], size: int, repeats: Callable[[str], bool]) -> list[tuple[int, int]]:
    """(start, end) of each numbered page; a page whose last order ``repeats`` shows it again on the next."""
    bounds, start = [], 0
    while start < len(ids):
        end = min(start + size, len(ids))
        bounds.append((start, end))
        start = end - 1 if end < len(ids) and end - start > 1 and repeats(ids[end - 1]) else end
    return bounds
