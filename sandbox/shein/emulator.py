"""SHEIN Open Platform emulator: signed calls, order list/detail, address export, pushes, webhooks.

Behaviour follows docs/platforms/shein.md (each fact with its public source). Every call carries
x-lt-openKeyId, x-lt-timestamp (ms, within 5 minutes of the wall clock) and x-lt-signature over
``openKeyId&timestamp&path`` (the body is not signed). Answers are HTTP 200 with the envelope
``{code, msg, info, bbl, traceId}``, ``code`` "0" on success. SHEIN publishes neither its error
codes for auth failures nor any rate limit (docs/platforms/shein.md): the codes below and the per-path
buckets are this emulator's [INFERRED] choices, each overridable. Pushes live in ``sandbox.shein.push``.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from sandbox.core.buckets import RateLimit
from sandbox.core.control import mount_stock_controls
from sandbox.core.demo_accounts import SHEIN_DEMO_SHOPS, SheinCredentials
from sandbox.core.generator import GeneratedOrder, OrderState, stable_digits
from sandbox.core.http_types import Request, Response, Route
from sandbox.core.listings import ListingIndex, levels_of
from sandbox.core.server import Emulator
from sandbox.core.webhooks import post_webhook
from sandbox.core.world import CATALOGUE, CatalogueItem
from sandbox.shein import push, webhook
from sandbox.shein.shapes import (
    ALL_STATUSES,
    E_HEADERS,
    E_INTERNAL,
    E_OPEN_KEY,
    E_ORDER,
    E_ORDER_STATE,
    E_SIGNATURE,
    E_THROTTLED,
    E_TIMESTAMP,
    MALFORMATIONS,
    envelope,
    export_address,
    list_row,
    order_no,
    param_error,
    parse_request_time,
    render_detail,
    shein_status,
    shein_time,
    sku_code,
    verify,
)

# Not published (docs/platforms/shein.md): plausible per-path buckets, metered per openKeyId; override per test.
DEFAULT_RATE_LIMITS = {
    "orderList": RateLimit(10, 20), "orderDetail": RateLimit(10, 20), "exportAddress": RateLimit(10, 20),
    "changeInventory": RateLimit(5, 10), "stockQuery": RateLimit(5, 10), "warehouseList": RateLimit(2, 5),
    "expressChannel": RateLimit(2, 5), "importExpress": RateLimit(5, 10), "getByToken": RateLimit(1, 5),
}
MAX_PAGE_SIZE = 30
MAX_DETAIL = 30


class SheinEmulator(Emulator):
    platform = "shein"
    default_rate_limits = DEFAULT_RATE_LIMITS

    def __init__(self, shops: tuple[SheinCredentials, ...] = SHEIN_DEMO_SHOPS, *,
                 max_window: timedelta = timedelta(hours=48), timestamp_tolerance: int | None = 300,
                 throttle_status: int = 200, temp_tokens: dict[str, str] | None = None,
                 catalogue: tuple[CatalogueItem, ...] | None = None, **settings: Any) -> None:
        """``throttle_status``: SHEIN's throttle answer is undocumented; by default it is the envelope
        with code 42900 inside HTTP 200 like every other SHEIN error (pass 429 to model a gateway).
        ``catalogue``: the skuCodes inventory calls accept (default ``world.CATALOGUE``)."""
        self.shops = {s.open_key_id: s for s in shops}
        self._by_country = {c: s for s in shops for c in s.countries}
        self.max_window, self.timestamp_tolerance = max_window, timestamp_tolerance
        self.throttle_status = throttle_status
        # tempToken -> openKeyId, for /open-api/auth/get-by-token (one per shop by default).
        self.temp_tokens = temp_tokens or {f"temp-{s.open_key_id}": s.open_key_id for s in shops}
        self.acknowledged: dict[str, datetime] = {}  # orderNo -> when export-address handleType 2 moved it
        # SHEIN names a SKU by skuCode alone; the connector sends it as the SKU map's platform SKU.
        self.listings = ListingIndex(CATALOGUE if catalogue is None else catalogue, lambda item: sku_code(item.sku))
        self.stock: dict[tuple[str, str], int] = {}  # (openKeyId, skuCode) -> saleInventory
        super().__init__(**settings)
        mount_stock_controls(self, self)
        self.route("POST", "/open-api/auth/get-by-token", "getByToken", self._get_by_token, auth=False)
        self.route("POST", "/open-api/order/order-list", "orderList", self._list)
        self.route("POST", "/open-api/order/order-detail", "orderDetail", self._detail)
        self.route("POST", "/open-api/order/export-address", "exportAddress", self._export_address)
        self.route("POST", "/open-api/gsp/goods/change-inventory", "changeInventory",
                   lambda req: push.change_inventory(self, req))
        self.route("POST", "/open-api/stock/stock-query", "stockQuery", lambda req: push.stock_query(self, req))
        self.route("GET", "/open-api/msc/warehouse/list", "warehouseList",
                   lambda req: push.warehouse_list(self, req))
        self.route("POST", "/open-api/order/express-channel", "expressChannel",
                   lambda req: push.express_channel(self, req))
        self.route("POST", "/open-api/order/import-batch-multiple-express", "importExpress",
                   lambda req: push.import_express(self, req))

    # --- Emulator hooks ------------------------------------------------------------------------
    def seed(self, count: int, seed: int = 1, anchor: datetime | None = None) -> None:
        self.acknowledged = {}
        super().seed(count, seed, anchor)

    def countries(self) -> tuple[str, ...]:
        return tuple(self._by_country)

    def assign(self, order: GeneratedOrder) -> str:
        order.account = self._by_country[order.country].open_key_id
        return order_no(order)

    # --- stock, for tests and demo config ------------------------------------------------------
    def stock_listings(self, account: str | None = None) -> list[dict[str, str | None]]:
        """The SKU map rows: platform SKU = SHEIN skuCode, no listing id (the connector sends
        ``listing_id or platform_sku`` as skuCode, so either place works; this picks one). The codes are
        the same for every seller, so ``account`` is ignored."""
        return self.listings.rows()

    def stock_levels(self, account: str | None = None) -> dict[str, int]:
        """skuCode -> saleInventory of seller ``account`` (an openKeyId; default: the first seller), the
        numbers ``stock-query`` answers."""
        with self.lock:
            return levels_of(self.stock, account or next(iter(self.shops)))

    def warehouse_code(self, open_key_id: str) -> str:
        return "PS" + stable_digits("shein-warehouse", open_key_id, length=8)

    def authenticate(self, request: Request, route: Route) -> Response | str:
        key_id = request.headers.get("x-lt-openKeyId")
        stamp = request.headers.get("x-lt-timestamp")
        signature = request.headers.get("x-lt-signature")
        if not (key_id and stamp and signature):
            return envelope(None, *E_HEADERS)
        shop = self.shops.get(key_id)
        if shop is None:
            return envelope(None, *E_OPEN_KEY)
        if not self._fresh(stamp):
            return envelope(None, *E_TIMESTAMP)
        if not verify(key_id, shop.secret_key_plain, request.path, stamp, signature):
            return envelope(None, *E_SIGNATURE)
        request.caller = shop
        return shop.open_key_id

    def throttled(self, request: Request, route: Route, retry_after: float) -> Response:
        return envelope(None, *E_THROTTLED, status=self.throttle_status)

    def server_error(self, request: Request, status: int) -> Response:
        return envelope(None, *E_INTERNAL, status=status)

    def not_found(self, request: Request) -> Response:
        return envelope(None, "40400", "path not found", status=404)

    def listed(self, order: GeneratedOrder, now: datetime) -> OrderState | None:
        """The order's state if the seller can see it: SHEIN hands orders over once paid, so an
        unpaid order is invisible and one cancelled before payment never appears."""
        if not order.visible(now):
            return None
        state = order.state(now)
        return state if state.paid_at is not None else None

    def status_of(self, oid: str, order: GeneratedOrder, state: OrderState) -> tuple[int, datetime]:
        """SHEIN's int status and update time, including a move to "pending shipment" by export-address."""
        acked = self.acknowledged.get(oid)
        status = shein_status(order, state, acked is not None)
        updated = max(state.updated_at, acked) if acked and status == 2 else state.updated_at
        return status, updated

    def ground_truth(self) -> list[dict[str, Any]]:
        now = self.clock.now()
        with self.lock:
            rows = [self.order_summary(oid, o, now) for oid, o in self.orders.items() if self.listed(o, now)]
        return sorted(rows, key=lambda r: (r["updated_at"], r["id"]))

    def order_summary(self, oid: str, order: GeneratedOrder, now: datetime) -> dict[str, Any]:
        state = order.state(now)
        status, updated = self.status_of(oid, order, state)
        return {"id": oid, "account": order.account, "status": status, "updated_at": updated.isoformat(),
                "performance_type": 2 if order.platform_fulfilled else 1}

    def _fresh(self, stamp: str) -> bool:
        if not stamp.isdigit():
            return False
        if self.timestamp_tolerance is None:
            return True
        # Checked against the wall clock: clients stamp real time; the sandbox clock is business time.
        return abs(int(stamp) - int(time.time() * 1000)) <= self.timestamp_tolerance * 1000

    # --- auth ----------------------------------------------------------------------------------
    def _get_by_token(self, request: Request) -> Response:
        """Signed with the app id and app secret (``x-lt-appid``); returns the encrypted secretKey."""
        app_id, stamp = request.headers.get("x-lt-appid"), request.headers.get("x-lt-timestamp") or ""
        app = next((s for s in self.shops.values() if s.app_id == app_id), None)
        failure = None
        if app is None:
            failure = E_OPEN_KEY
        elif not self._fresh(stamp):
            failure = E_TIMESTAMP
        elif not verify(app.app_id, app.app_secret, request.path, stamp, request.headers.get("x-lt-signature") or ""):
            failure = E_SIGNATURE
        if failure is not None:
            self.counters.add("getByToken", "auth_failures")
            return envelope(None, *failure)
        body = _json_object(request)
        shop = self.shops.get(self.temp_tokens.get(str((body or {}).get("tempToken")), ""))
        if shop is None or shop.app_id != app_id:
            return envelope(None, "40005", "tempToken is invalid or expired")
        return envelope({"openKeyId": shop.open_key_id, "secretKey": shop.secret_key, "appid": shop.app_id,
                         "state": "", "supplierId": int(shop.supplier_id), "supplierBusinessMode": "SEMI"})

    # --- orders --------------------------------------------------------------------------------
    def _list(self, request: Request) -> Response:
        body = _json_object(request)
        if body is None:
            return param_error("body must be a JSON object")
        query_type = body.get("queryType")
        if query_type not in (1, 2):
            return param_error("queryType must be 1 (created) or 2 (updated)")
        start, end = parse_request_time(body.get("startTime")), parse_request_time(body.get("endTime"))
        if start is None or end is None:
            return param_error("startTime and endTime must be 'yyyy-MM-dd HH:mm:ss' (UTC+8)")
        if end < start or end - start > self.max_window:
            return param_error(f"the time window must be between 0 and {int(self.max_window.total_seconds() // 3600)} hours")
        page, size = body.get("page"), body.get("pageSize")
        if not _whole(page) or page < 1 or not _whole(size) or not 1 <= size <= MAX_PAGE_SIZE:
            return param_error(f"page must be >= 1 and pageSize between 1 and {MAX_PAGE_SIZE}")
        wanted = body.get("orderStatus")
        if wanted is not None and (str(wanted) not in {str(s) for s in ALL_STATUSES}):
            return param_error("orderStatus must be 1 to 9")
        now, account = self.clock.now(), request.caller.open_key_id
        rows = []
        for oid, order in self.orders.items():
            state = self.listed(order, now) if order.account == account else None
            if state is None:
                continue
            status, updated = self.status_of(oid, order, state)
            moment = (order.created_at if query_type == 1 else updated).replace(microsecond=0)
            # Both ends inclusive, at the second resolution of the request strings [INFERRED].
            if not start <= moment <= end or (wanted is not None and str(status) != str(wanted)):
                continue
            rows.append((moment, oid, list_row(oid, order, status, updated)))
        rows.sort(key=lambda r: (r[0], r[1]))
        served = self._page(rows, page, size)
        return envelope({"count": len(rows), "orderList": [r[2] for r in served]})

    def _page(self, rows: list[Any], page: int, size: int) -> list[Any]:
        """Page ``page`` of fixed-size pages; a duplicated boundary starts the next page one row early
        (what an insertion between two page reads does), so its last row shows twice."""
        begin = 0
        for _ in range(page - 1):
            end = begin + size
            if end > len(rows):
                return []
            begin = end - 1 if self.faults.duplicates_after(rows[end - 1][1]) else end
        return rows[begin:begin + size]

    def _detail(self, request: Request) -> Response:
        body = _json_object(request)
        numbers = (body or {}).get("orderNoList")
        if not isinstance(numbers, list) or not 1 <= len(numbers) <= MAX_DETAIL \
                or not all(isinstance(n, str) for n in numbers):
            return param_error(f"orderNoList must hold 1 to {MAX_DETAIL} order numbers")
        now, account = self.clock.now(), request.caller.open_key_id
        info = []
        for oid in dict.fromkeys(numbers):
            order = self.orders.get(oid)
            state = self.listed(order, now) if order is not None and order.account == account else None
            if state is not None:
                info.append(self.render(oid, order, state))
        return envelope(info)

    def render(self, oid: str, order: GeneratedOrder, state: OrderState) -> dict[str, Any]:
        status, updated = self.status_of(oid, order, state)
        return render_detail(oid, order, state, status, updated, self.warehouse_code(order.account),
                             self.faults.malformation(oid, MALFORMATIONS))

    def _export_address(self, request: Request) -> Response:
        """handleType 1 exports; 2 exports and moves "pending processing" (1) to "pending shipment" (2)."""
        body = _json_object(request) or {}
        oid, handle = body.get("orderNo"), body.get("handleType")
        if not isinstance(oid, str) or handle not in (1, 2):
            return param_error("orderNo is required and handleType must be 1 or 2")
        now = self.clock.now()
        order = self.orders.get(oid)
        state = self.listed(order, now) if order is not None and order.account == request.caller.open_key_id else None
        if state is None:
            return envelope(None, *E_ORDER)
        if order.platform_fulfilled:
            return envelope(None, *E_ORDER_STATE)  # SHEIN ships it: the seller gets no address
        status, _ = self.status_of(oid, order, state)
        if handle == 2:
            if status in (6, 9):
                return envelope(None, *E_ORDER_STATE)
            if status == 1:
                self.acknowledged[oid] = now
        return envelope({"receiveMsgList": [export_address(oid, state.address, order.buyer_email_local)]})

    # --- webhooks ------------------------------------------------------------------------------
    def send_order_webhook(self, url: str, oid: str, *, forge: bool = False, timeout: float = 5.0) -> int:
        """POST an ``order_push_notice`` for ``oid`` to ``url``; returns the receiver's HTTP status."""
        order = self.orders[oid]
        shop = self.shops[order.account]
        now = self.clock.now()
        state = order.state(now)
        status, updated = self.status_of(oid, order, state)
        event = {"orderNo": oid, "orderStatus": status, "updateTime": shein_time(updated)}
        body, headers = webhook.build_webhook(shop, url, event, forge=forge)
        return post_webhook(url, body, headers, timeout)


def _json_object(request: Request) -> dict[str, Any] | None:
    try:
        body = request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
