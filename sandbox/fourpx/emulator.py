"""4PX overseas-warehouse WMS emulator: one signed router endpoint, outbound orders moving over time.

Checks the MD5 signature over the exact body bytes, refuses a repeated `ref_no` as the API does,
holds per-SKU stock per warehouse (available vs pending for open outbounds) and moves outbound
orders S → P (picked: "taken off the shelf") → C (shipped, with carrier and tracking) on the sandbox
clock, or to E with sub-status S when stock is short. Error codes are not published; the ones here
and in ``outbound`` are plausible and named. 4PX publishes no method that changes an outbound order's
consignee, so none is served: an address change reaches a 4PX outbound only by cancelling and creating
again. The ground truth (`outbound_truth`) records where each outbound left for. This module keeps the
router, signing, stock and test levers; the outbound orders live in ``sandbox.fourpx.outbound``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sandbox.core.control import FulfilmentTimes, mount_warehouse_controls
from sandbox.core.demo_accounts import load_demo_secrets
from sandbox.core.http_types import Request, Response, Route
from sandbox.core.server import Emulator
from sandbox.core.world import CATALOGUE
from sandbox.fourpx import outbound
from sandbox.fourpx.outbound import Outbound
from sandbox.fourpx.shapes import body_of, error, ok, paged

ROUTER = "/router/api/service"
WAREHOUSES = ("USNJ01", "DEFRA01", "JPOSA01")
# Chosen codes (4PX publishes none): signature, app key, timestamp; the outbound ones are in ``outbound``.
E_SIGN, E_APP_KEY, E_TIMESTAMP = "100001", "100002", "100003"


@dataclass(frozen=True)
class FourPXCredentials:
    app_key: str
    app_secret: str


def demo_credentials() -> FourPXCredentials:
    table = load_demo_secrets()["fourpx-demo"]
    return FourPXCredentials(table["app_key"], table["app_secret"])


class FourPXEmulator(FulfilmentTimes, Emulator):
    platform = "fourpx"

    def __init__(self, credentials: FourPXCredentials | None = None, *, warehouses: tuple[str, ...] = WAREHOUSES,
                 initial_stock: int = 200, pick_after: float = 1800, ship_after: float = 4 * 3600,
                 **settings: Any) -> None:
        self.credentials = credentials or demo_credentials()
        self.warehouses = warehouses
        self.on_hand: dict[tuple[str, str], int] = {(wh, item.sku): initial_stock for wh in warehouses
                                                    for item in CATALOGUE}
        self.pending: Counter[tuple[str, str]] = Counter()
        self.outbounds: dict[str, Outbound] = {}
        self.moving: set[str] = set()  # outbounds that may still move on their own: every call advances them
        self.by_ref: dict[str, str] = {}
        self.creates: Counter[str] = Counter()  # accepted creates per ref_no (must stay 1)
        self.cancellations: list[str] = []
        self.pick_after, self.ship_after = pick_after, ship_after
        settings["orders"] = 0  # a warehouse holds stock, not marketplace orders
        super().__init__(**settings)
        handlers = {"fu.wms.outbound.create": lambda req: outbound.create_outbound(self, req),
                    "fu.wms.outbound.getlist": lambda req: outbound.list_outbounds(self, req),
                    "fu.wms.outbound.cancel": lambda req: outbound.cancel_outbound(self, req),
                    "fu.wms.inventory.get": self._inventory}
        for method, handler in handlers.items():
            self.route("POST", ROUTER, method, handler)
        mount_warehouse_controls(self, self)

    # --- hooks ---------------------------------------------------------------------------------
    def countries(self) -> tuple[str, ...]:
        return ("US",)

    def assign(self, order: Any) -> str:
        return str(order.serial)

    def _match(self, request: Request) -> Route | None:
        """One URL for every method: the `method` query parameter picks the route (and its operation)."""
        wanted = request.arg("method")
        for route in self.routes:
            if route.control and route.pattern.match(request.path):
                return super()._match(request)
            if request.path == ROUTER and route.operation == wanted and route.method == request.method:
                return route
        return None

    def authenticate(self, request: Request, route: Route) -> Response | str:
        key, ts, given = request.arg("app_key"), request.arg("timestamp") or "", request.arg("sign") or ""
        if key != self.credentials.app_key:
            return error(E_APP_KEY, "app_key is invalid")
        if not ts.isdigit() or abs(int(ts) / 1000 - time.time()) > 600:
            return error(E_TIMESTAMP, "timestamp is invalid or expired")
        head = f"app_key{key}formatjsonmethod{request.arg('method')}timestamp{ts}v{request.arg('v') or ''}"
        expected = hashlib.md5(head.encode() + request.body + self.credentials.app_secret.encode()).hexdigest()
        if not hmac.compare_digest(expected, given.lower()):
            return error(E_SIGN, "sign is invalid")
        return key

    def throttled(self, request: Request, route: Route, retry_after: float) -> Response:
        return Response.json(429, {"result": "0", "msg": "too many requests",
                                   "errors": [{"error_code": "429", "error_msg": "too many requests"}]})

    def server_error(self, request: Request, status: int) -> Response:
        return Response.json(status, {"result": "0", "msg": "system busy"})

    # --- stock ---------------------------------------------------------------------------------
    def _inventory(self, request: Request) -> Response:
        outbound.advance(self)
        body = body_of(request)
        wanted = set(body.get("lstsku") or [])
        rows = [{"warehouse_code": wh, "sku_code": sku, "sku_id": hashlib.md5(sku.encode()).hexdigest()[:10],
                 "batch_no": "", "available_stock": max(0, units - self.pending[(wh, sku)]),
                 "pending_stock": self.pending[(wh, sku)], "onway_stock": 0, "stock_quality": "G"}
                for (wh, sku), units in sorted(self.on_hand.items())
                if (not body.get("warehouse_code") or wh == body["warehouse_code"]) and (not wanted or sku in wanted)]
        return ok(paged(body, rows, default=50, maximum=500))

    # --- for tests -----------------------------------------------------------------------------
    def count_by_reference(self) -> dict[str, int]:
        return dict(self.creates)

    def units_ordered(self) -> dict[str, int]:
        """Units per "warehouse/SKU" in every outbound order not cancelled (exceptions included: an
        order for stock the warehouse lacks was still received)."""
        units: dict[str, int] = {}
        with self.lock:
            for out in self.outbounds.values():
                if out.status != "X":
                    for sku, qty in out.skus:
                        units[f"{out.warehouse}/{sku}"] = units.get(f"{out.warehouse}/{sku}", 0) + qty
        return units

    def set_stock(self, warehouse: str, sku: str, units: int) -> None:
        with self.lock:
            self.on_hand[(warehouse, sku)] = units

    def pick_now(self, ref: str) -> dict[str, Any]:
        """Pick an outbound still in progress (S) now: from here on it is too late to re-address."""
        with self.lock:
            out = self.outbounds[self.by_ref[ref]]
            if out.status == "S":
                out.status, out.picked_at = "P", self.clock.now()
            return outbound.truth(out)

    def ship_now(self, ref: str) -> dict[str, Any]:
        with self.lock:
            out = self.outbounds[self.by_ref[ref]]
            if out.status in ("S", "P"):
                outbound.ship(self, out, self.clock.now())
            return outbound.truth(out)

    def outbound_truth(self) -> list[dict[str, Any]]:
        with self.lock:
            outbound.advance(self)
            return [outbound.truth(out) for out in self.outbounds.values()]

    def inventory_truth(self) -> list[dict[str, Any]]:
        with self.lock:
            return [{"warehouse": wh, "sku": sku, "on_hand": units, "pending": self.pending[(wh, sku)],
                     "available": max(0, units - self.pending[(wh, sku)])}
                    for (wh, sku), units in sorted(self.on_hand.items())]

    def cancellation_truth(self) -> list[dict[str, Any]]:
        with self.lock:
            return [{"reference": ref} for ref in self.cancellations]
