"""ShipBob REST emulator: bearer token + channel header, unique reference_id, 150 requests a minute.

Orders move Processing → Completed (with carrier and tracking) on the sandbox clock; a repeated
`reference_id` is refused with 422 naming it (ShipBob documents the uniqueness, not the answer:
this shape is our choice). Throttling answers 429 with `x-retry-after` and `x-remaining-calls`.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sandbox.demo import load_demo_secrets
from sandbox.server import Emulator, Request, Response, Route
from sandbox.world import CATALOGUE

VERSIONS = ("1.0", "2025-07", "2026-01", "2026-07")
PER_MINUTE = 150


@dataclass(frozen=True)
class ShipBobCredentials:
    token: str
    channel_id: str


def demo_credentials() -> ShipBobCredentials:
    table = load_demo_secrets()["shipbob-demo"]
    return ShipBobCredentials(table["token"], str(table["channel_id"]))


@dataclass
class ShipBobOrder:
    id: int
    reference_id: str
    products: list[dict[str, Any]]
    recipient: dict[str, Any]
    created_at: datetime
    status: str = "Processing"
    shipped_at: datetime | None = None
    tracking_number: str = ""
    carrier: str = ""
    tracking_uploaded: bool = False


class ShipBobEmulator(Emulator):
    platform = "shipbob"

    def __init__(self, credentials: ShipBobCredentials | None = None, *, initial_stock: int = 200,
                 ship_after: float = 4 * 3600, per_minute: int = PER_MINUTE, **settings: Any) -> None:
        self.credentials = credentials or demo_credentials()
        self.on_hand: dict[str, int] = {item.sku: initial_stock for item in CATALOGUE}
        self.committed: Counter[str] = Counter()
        self.sb_orders: dict[int, ShipBobOrder] = {}
        self.creates: Counter[str] = Counter()  # accepted creates per reference_id (must stay 1)
        self.processing: set[int] = set()  # orders that may still ship on their own: every call advances them
        self.cancellations: list[str] = []
        self.ship_after, self.per_minute = ship_after, per_minute
        self._window: deque[float] = deque()
        settings["orders"] = 0  # a warehouse holds stock, not marketplace orders
        super().__init__(**settings)
        for version in VERSIONS:
            base = f"/{version}"
            self.route("POST", f"{base}/order", "createOrder", self._create)
            self.route("GET", f"{base}/order", "listOrders", self._list)
            self.route("GET", base + "/order/{order_id}", "getOrder", self._get)
            self.route("POST", base + "/order/{order_id}/cancel", "cancelOrder", self._cancel)
            self.route("GET", f"{base}/inventory-level", "inventoryLevels", self._inventory)

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

    # --- time ----------------------------------------------------------------------------------
    def _advance(self) -> None:
        now = self.clock.now()
        for order_id in list(self.processing):
            order = self.sb_orders[order_id]
            if order.status == "Processing" and now >= order.created_at + timedelta(seconds=self.ship_after):
                self._ship(order, order.created_at + timedelta(seconds=self.ship_after))
            if order.status != "Processing":
                self.processing.discard(order_id)

    def _ship(self, order: ShipBobOrder, when: datetime) -> None:
        order.status, order.shipped_at, order.carrier = "Completed", when, "USPS"
        order.tracking_number = "9400" + str(int(hashlib.sha256(order.reference_id.encode()).hexdigest()[:12], 16))[:18]
        for p in order.products:
            self.committed[p["reference_id"]] -= p["quantity"]
            self.on_hand[p["reference_id"]] = self.on_hand.get(p["reference_id"], 0) - p["quantity"]

    # --- endpoints -----------------------------------------------------------------------------
    def _create(self, request: Request) -> Response:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            return Response.json(400, {"message": "The request body is not valid JSON."})
        missing = [k for k in ("reference_id", "shipping_method", "recipient", "products") if not body.get(k)]
        if missing:
            return Response.json(400, {"message": "Validation failed", "errors": {k: ["required"] for k in missing}})
        ref = str(body["reference_id"])
        if ref in self.creates:
            return Response.json(422, {"message": f"An order with reference_id {ref} already exists."})
        products = [{"reference_id": str(p.get("reference_id")), "name": p.get("name", ""), "quantity": int(p.get("quantity", 0))}
                    for p in body["products"]]
        order = ShipBobOrder(len(self.sb_orders) + 100001, ref, products, body["recipient"], self.clock.now())
        short = [p for p in products if self.on_hand.get(p["reference_id"], 0) - self.committed[p["reference_id"]] < p["quantity"]]
        if short:
            order.status = "Exception"
        else:
            for p in products:
                self.committed[p["reference_id"]] += p["quantity"]
        self.sb_orders[order.id] = order
        self.processing.add(order.id)
        self.creates[ref] += 1
        return Response.json(201, self._render(order))

    def _list(self, request: Request) -> Response:
        self._advance()
        rows = list(self.sb_orders.values())
        refs = request.arg("ReferenceIds")
        if refs:
            rows = [o for o in rows if o.reference_id in refs.split(",")]
        if request.arg("HasTracking") == "true":
            rows = [o for o in rows if o.tracking_number]
        if request.arg("IsTrackingUploaded") == "false":
            rows = [o for o in rows if not o.tracking_uploaded]
        page = max(1, int(request.arg("Page") or 1))
        limit = min(250, max(1, int(request.arg("Limit") or 50)))
        return Response.json(200, [self._render(o) for o in rows[(page - 1) * limit: page * limit]])

    def _get(self, request: Request) -> Response:
        self._advance()
        order = self.sb_orders.get(int(request.params["order_id"])) if request.params["order_id"].isdigit() else None
        return Response.json(200, self._render(order)) if order else Response.json(404, {"message": "Order not found"})

    def _cancel(self, request: Request) -> Response:
        self._advance()
        order = self.sb_orders.get(int(request.params["order_id"])) if request.params["order_id"].isdigit() else None
        if order is None:
            return Response.json(404, {"message": "Order not found"})
        if order.status == "Completed":
            return Response.json(422, {"message": "The order has already shipped and cannot be cancelled."})
        if order.status == "Processing":
            for p in order.products:
                self.committed[p["reference_id"]] -= p["quantity"]
        order.status = "Cancelled"
        self.cancellations.append(order.reference_id)
        return Response.json(200, self._render(order))

    def _inventory(self, request: Request) -> Response:
        self._advance()
        items = [{"inventory_id": i + 1, "sku": sku, "name": sku, "on_hand_quantity": units,
                  "fulfillable_quantity": max(0, units - self.committed[sku]), "committed_quantity": self.committed[sku],
                  "awaiting_quantity": 0} for i, (sku, units) in enumerate(sorted(self.on_hand.items()))]
        page = max(1, int(request.arg("Page") or 1))
        size = min(250, max(1, int(request.arg("PageSize") or 50)))
        return Response.json(200, {"items": items[(page - 1) * size: page * size], "total": len(items)})

    def _render(self, order: ShipBobOrder) -> dict[str, Any]:
        shipment = {"id": order.id * 10, "status": order.status if order.status != "Processing" else "Processing",
                    "tracking": ({"carrier": order.carrier, "tracking_number": order.tracking_number,
                                  "shipping_date": order.shipped_at.isoformat()} if order.tracking_number else None)}
        return {"id": order.id, "reference_id": order.reference_id, "status": order.status,
                "created_date": order.created_at.isoformat(), "products": order.products,
                "recipient": order.recipient, "shipments": [shipment]}

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

    def ship_now(self, ref: str) -> None:
        with self.lock:
            for order in self.sb_orders.values():
                if order.reference_id == ref and order.status == "Processing":
                    self._ship(order, self.clock.now())

    def set_stock(self, sku: str, units: int) -> None:
        with self.lock:
            self.on_hand[sku] = units
