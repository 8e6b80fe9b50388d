"""ShipBob REST emulator: bearer token + channel header, unique reference_id, 150 requests a minute.

Orders move Processing → Processing/Picked (status detail 100) → Completed (with carrier and
tracking) on the sandbox clock; a repeated `reference_id` is refused with 422 naming it (ShipBob
documents the uniqueness, not the answer: this shape is our choice). Throttling answers 429 with
`x-retry-after` and `x-remaining-calls`. `PUT /{2026-01,2026-07}/shipment/{id}:updateAddress`
re-addresses a shipment until it is picked; the ground truth (`outbound_truth`) records every
update taken or refused and where each shipment left for. The orders, how they move and their
endpoints live in ``sandbox.shipbob.orders``.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from sandbox.core.control import FulfilmentTimes, mount_warehouse_controls
from sandbox.core.demo_accounts import load_demo_secrets
from sandbox.core.http_types import Request, Response, Route
from sandbox.core.server import Emulator
from sandbox.core.world import CATALOGUE
from sandbox.shipbob import orders
from sandbox.shipbob.orders import ShipBobOrder

VERSIONS = ("1.0", "2025-07", "2026-01", "2026-07")
ADDRESS_VERSIONS = ("2026-01", "2026-07")  # the versions whose reference documents :updateAddress
PER_MINUTE = 150


@dataclass(frozen=True)
class ShipBobCredentials:
    token: str
    channel_id: str


def demo_credentials() -> ShipBobCredentials:
    table = load_demo_secrets()["shipbob-demo"]
    return ShipBobCredentials(table["token"], str(table["channel_id"]))


class ShipBobEmulator(FulfilmentTimes, Emulator):
    platform = "shipbob"

    def __init__(self, credentials: ShipBobCredentials | None = None, *, initial_stock: int = 200,
                 ship_after: float = 4 * 3600, pick_after: float | None = None, per_minute: int = PER_MINUTE,
                 **settings: Any) -> None:
        self.credentials = credentials or demo_credentials()
        self.on_hand: dict[str, int] = {item.sku: initial_stock for item in CATALOGUE}
        self.committed: Counter[str] = Counter()
        self.sb_orders: dict[int, ShipBobOrder] = {}
        self.by_ref: dict[str, int] = {}
        self.creates: Counter[str] = Counter()  # accepted creates per reference_id (must stay 1)
        self.processing: set[int] = set()  # orders that may still ship on their own: every call advances them
        self.cancellations: list[str] = []
        self.ship_after, self.per_minute = ship_after, per_minute
        self.pick_after = ship_after / 8 if pick_after is None else pick_after  # 30 min of the default 4 h
        self._window: deque[float] = deque()
        settings["orders"] = 0  # a warehouse holds stock, not marketplace orders
        super().__init__(**settings)
        for version in VERSIONS:
            base = f"/{version}"
            self.route("POST", f"{base}/order", "createOrder", lambda req: orders.create_order(self, req))
            self.route("GET", f"{base}/order", "listOrders", lambda req: orders.list_orders(self, req))
            self.route("GET", base + "/order/{order_id}", "getOrder", lambda req: orders.get_order(self, req))
            self.route("POST", base + "/order/{order_id}/cancel", "cancelOrder",
                       lambda req: orders.cancel_order(self, req))
            self.route("GET", f"{base}/inventory-level", "inventoryLevels", self._inventory)
        for version in ADDRESS_VERSIONS:
            self.route("PUT", f"/{version}/shipment/{{shipment_id}}:updateAddress", "updateShipmentAddress",
                       lambda req: orders.update_address(self, req))
        mount_warehouse_controls(self, self)

    def countries(self) -> tuple[str, ...]:
        return ("US",)

    def assign(self, order: Any) -> str:
        return str(order.serial)

    def authenticate(self, request: Request, route: Route) -> Response | str:
        auth = request.headers.get("Authorization") or ""
        if auth != f"Bearer {self.credentials.token}":
            return Response.json(401, {"message": "Authorization has been denied for this request."})
        if request.headers.get("shipbob_channel_id") != self.credentials.channel_id:
            return Response.json(403, {"message": "The channel is missing or lacks write access."})
        # The sliding window of 150 calls a minute, in real seconds (what ShipBob counts).
        now = time.monotonic()
        while self._window and now - self._window[0] >= 60:
            self._window.popleft()
        if len(self._window) >= self.per_minute:
            wait = max(1, int(60 - (now - self._window[0])) + 1)
            return Response.json(429, {"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {wait} seconds."},
                                 {"x-retry-after": str(wait), "x-remaining-calls": "0"})
        self._window.append(now)
        return "token"

    def throttled(self, request: Request, route: Route, retry_after: float) -> Response:
        wait = max(1, int(retry_after))
        return Response.json(429, {"statusCode": 429, "message": f"Rate limit is exceeded. Try again in {wait} seconds."},
                             {"x-retry-after": str(wait), "x-remaining-calls": "0"})

    def finish(self, request: Request, route: Route | None, response: Response) -> Response:
        response.headers.setdefault("x-remaining-calls", str(max(0, self.per_minute - len(self._window))))
        return response

    # --- stock ---------------------------------------------------------------------------------
    def _inventory(self, request: Request) -> Response:
        orders.advance(self)
        items = [{"inventory_id": i + 1, "sku": sku, "name": sku, "on_hand_quantity": units,
                  "fulfillable_quantity": max(0, units - self.committed[sku]), "committed_quantity": self.committed[sku],
                  "awaiting_quantity": 0} for i, (sku, units) in enumerate(sorted(self.on_hand.items()))]
        page = max(1, int(request.arg("Page") or 1))
        size = min(250, max(1, int(request.arg("PageSize") or 50)))
        return Response.json(200, {"items": items[(page - 1) * size: page * size], "total": len(items)})

    # --- for tests -----------------------------------------------------------------------------
    def count_by_reference(self) -> dict[str, int]:
        return dict(self.creates)

    def units_ordered(self) -> dict[str, int]:
        """Units per SKU in every order not cancelled (exceptions included: they were still received)."""
        units: dict[str, int] = {}
        with self.lock:
            for order in self.sb_orders.values():
                if order.status != "Cancelled":
                    for p in order.products:
                        units[p["reference_id"]] = units.get(p["reference_id"], 0) + p["quantity"]
        return units

    def pick_now(self, ref: str) -> dict[str, Any]:
        """Finish picking a Processing shipment now: from here on it is too late to re-address."""
        with self.lock:
            order = self.sb_orders[self.by_ref[ref]]
            if order.status == "Processing" and order.picked_at is None:
                order.picked_at = self.clock.now()
            return orders.truth(order)

    def ship_now(self, ref: str) -> dict[str, Any]:
        with self.lock:
            order = self.sb_orders[self.by_ref[ref]]
            if order.status == "Processing":
                orders.ship(self, order, self.clock.now())
            return orders.truth(order)

    def set_stock(self, site: Any, sku: str, units: int) -> None:
        """`site` is ignored: this emulator is one fulfilment location."""
        with self.lock:
            self.on_hand[sku] = units

    def outbound_truth(self) -> list[dict[str, Any]]:
        with self.lock:
            orders.advance(self)
            return [orders.truth(order) for order in self.sb_orders.values()]

        with self.lock:
            return [{"sku": sku, "on_hand": units, "committed": self.committed[sku],
                     "fulfillable": max(0, units - self.committed[sku])} for sku, units in sorted(self.on_hand.items())]

    def cancellation_truth(self) -> list[dict[str, Any]]:
        with self.lock:
            return [{"reference": ref} for ref in self.cancellations]
