"""SHEIN Open Platform emulator: signed calls, order list/detail, address export, pushes, webhooks.

Behaviour follows docs/platforms/shein.md (each fact with its public source). Every call carries
x-lt-openKeyId, x-lt-timestamp (ms, within 5 minutes of the wall clock) and x-lt-signature over
``openKeyId&timestamp&path`` (the body is not signed). Answers are HTTP 200 with the envelope
``{code, msg, info, bbl, traceId}``, ``code`` "0" on success. SHEIN publishes neither its error
codes for auth failures nor any rate limit (docs/platforms/shein.md): the codes below and the per-path
buckets are this emulator's [INFERRED] choices, each overridable. This module keeps the routes, signing and
auth; the order reads live in ``sandbox.shein.orders``, pushes in ``sandbox.shein.push``.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from sandbox.core.buckets import RateLimit
from sandbox.core.control import mount_stock_controls
from sandbox.core.demo_accounts import SHEIN_DEMO_SHOPS, SheinCredentials
from sandbox.core.generator import stable_digits
from sandbox.core.http_types import Request, Response, Route
from sandbox.core.listings import ListingIndex, levels_of
from sandbox.core.orders import GeneratedOrder, OrderState
from sandbox.core.server import Emulator
from sandbox.core.webhooks import post_webhook
from sandbox.core.world import CATALOGUE, CatalogueItem
from sandbox.shein import orders, push, webhook
from sandbox.shein.shapes import (
    E_HEADERS,
    E_INTERNAL,
    E_OPEN_KEY,
    E_SIGNATURE,
    E_THROTTLED,
    E_TIMESTAMP,
    envelope,
    order_no,
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
        self.route("POST", "/open-api/order/order-list", "orderList",
                   lambda req: orders.order_list(self, req))
        self.route("POST", "/open-api/order/order-detail", "orderDetail",
                   lambda req: orders.order_detail(self, req))
        self.route("POST", "/open-api/order/export-address", "exportAddress",
                   lambda req: orders.export_address(self, req))
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
        body = request.json_object()
        shop = self.shops.get(self.temp_tokens.get(str((body or {}).get("tempToken")), ""))
        if shop is None or shop.app_id != app_id:
            return envelope(None, "40005", "tempToken is invalid or expired")
        return envelope({"openKeyId": shop.open_key_id, "secretKey": shop.secret_key, "appid": shop.app_id,
                         "state": "", "supplierId": int(shop.supplier_id), "supplierBusinessMode": "SEMI"})

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
