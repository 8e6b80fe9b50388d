"""ShipBob REST emulator: bearer token + channel header, unique reference_id, 150 requests a minute.

Orders move Processing → Processing/Picked (status detail 100) → Completed (with carrier and
tracking) on the sandbox clock; a repeated `reference_id` is refused with 422 naming it (ShipBob
documents the uniqueness, not the answer: this shape is our choice). Throttling answers 429 with
`x-retry-after` and `x-remaining-calls`. `PUT /{2026-01,2026-07}/shipment/{id}:updateAddress`
re-addresses a shipment until it is picked; the ground truth (`outbound_truth`) records every
update taken or refused and where each shipment left for.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox.core.control import FulfilmentTimes, destination, mount_warehouse_controls
from sandbox.core.demo_accounts import load_demo_secrets
from sandbox.core.http_types import Request, Response, Route
from sandbox.core.server import Emulator
from sandbox.core.world import CATALOGUE

VERSIONS = ("1.0", "2025-07", "2026-01", "2026-07")
ADDRESS_VERSIONS = ("2026-01", "2026-07")  # the versions whose reference documents :updateAddress
PER_MINUTE = 150
PICKED = {"id": 100, "name": "Picked", "description": "Picking Completed"}  # status reference


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
    picked_at: datetime | None = None
    shipped_at: datetime | None = None
    tracking_number: str = ""
    carrier: str = ""
    tracking_uploaded: bool = False
    shipped_to: dict[str, Any] | None = None  # the recipient address the parcel left with
    address_updates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def shipment_id(self) -> int:
        return self.id * 10


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
            self.route("POST", f"{base}/order", "createOrder", self._create)
            self.route("GET", f"{base}/order", "listOrders", self._list)
            self.route("GET", base + "/order/{order_id}", "getOrder", self._get)
            self.route("POST", base + "/order/{order_id}/cancel", "cancelOrder", self._cancel)
            self.route("GET", f"{base}/inventory-level", "inventoryLevels", self._inventory)
        for version in ADDRESS_VERSIONS:
            self.route("PUT", f"/{version}/shipment/{{shipment_id}}:updateAddress", "updateShipmentAddress",
                       self._update_address)
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

    # --- time ----------------------------------------------------------------------------------
    def _advance(self) -> None:
        now = self.clock.now()
        for order_id in list(self.processing):
            order = self.sb_orders[order_id]
            picked = order.created_at + timedelta(seconds=min(self.pick_after, self.ship_after))
            if order.status == "Processing" and order.picked_at is None and now >= picked:
                order.picked_at = picked
            if order.status == "Processing" and now >= order.created_at + timedelta(seconds=self.ship_after):
                self._ship(order, order.created_at + timedelta(seconds=self.ship_after))
            if order.status != "Processing":
                self.processing.discard(order_id)

    def _ship(self, order: ShipBobOrder, when: datetime) -> None:
        order.status, order.shipped_at, order.carrier = "Completed", when, "USPS"
        order.picked_at = order.picked_at or when
        order.shipped_to = dict(order.recipient.get("address") or {})
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
        recipient = dict(body["recipient"]) if isinstance(body["recipient"], dict) else {}
        recipient["address"] = dict(recipient.get("address") or {})
        order = ShipBobOrder(len(self.sb_orders) + 100001, ref, products, recipient, self.clock.now())
        short = [p for p in products if self.on_hand.get(p["reference_id"], 0) - self.committed[p["reference_id"]] < p["quantity"]]
        if short:
            order.status = "Exception"
        else:
            for p in products:
                self.committed[p["reference_id"]] += p["quantity"]
        self.sb_orders[order.id] = order
        self.by_ref[ref] = order.id
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

    def _update_address(self, request: Request) -> Response:
        """`Orders.UpdateAddressRequest` in; `{id, is_success, error{code, message}}` out (200), or a 400
        `{code, message}` for a body it cannot take or a shipment it does not know. Refusing a picked,
        shipped or cancelled shipment, and the wording, are ours (ShipBob documents no rule here; it
        refuses cancelling a shipment once picked, packed or shipped)."""
        self._advance()
        sid = request.params["shipment_id"]
        order = self.sb_orders.get(int(sid) // 10) if sid.isdigit() and int(sid) % 10 == 0 else None
        if order is None:
            return Response.json(400, {"code": "NOT_FOUND", "message": "Shipment not found."})
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict) or not body.get("street_address1") or not body.get("city"):
            return Response.json(400, {"code": "VALIDATION_ERROR", "message": "street_address1 and city are required."})
        refusal = {"Completed": "The shipment has already shipped; its address can no longer be updated.",
                   "Cancelled": "The shipment is cancelled; its address can no longer be updated."}.get(order.status)
        if refusal is None and order.picked_at is not None and order.status == "Processing":
            refusal = "The shipment has already been picked; its address can no longer be updated."
        address = {"address1": body["street_address1"], "address2": body.get("street_address2") or "",
                   "city": body["city"], "state": body.get("state") or "", "zip_code": body.get("zip_code") or "",
                   "country": body.get("country_code") or order.recipient["address"].get("country", "")}
        order.address_updates.append({"at": self.clock.now().isoformat(), "applied": refusal is None,
                                      "fingerprint": _destination(address)["fingerprint"],
                                      "code": "CONFLICT" if refusal else ""})
        if refusal:
            return Response.json(200, {"id": order.shipment_id, "is_success": False,
                                       "error": {"code": "CONFLICT", "message": refusal}})
        order.recipient["address"] |= address | {"company_name": body.get("company_name") or ""}
        for field_name, key in (("recipient_name", "name"), ("phone_number", "phone_number"), ("email", "email")):
            if body.get(field_name):
                order.recipient[key] = body[field_name]
        return Response.json(200, {"id": order.shipment_id, "is_success": True, "error": None})

    def _render(self, order: ShipBobOrder) -> dict[str, Any]:
        shipment = {"id": order.shipment_id, "status": order.status, "recipient": order.recipient,
                    "status_details": [PICKED] if order.picked_at and order.status == "Processing" else [],
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

    def pick_now(self, ref: str) -> dict[str, Any]:
        """Finish picking a Processing shipment now: from here on it is too late to re-address."""
        with self.lock:
            order = self.sb_orders[self.by_ref[ref]]
            if order.status == "Processing" and order.picked_at is None:
                order.picked_at = self.clock.now()
            return self._truth(order)

    def ship_now(self, ref: str) -> dict[str, Any]:
        with self.lock:
            order = self.sb_orders[self.by_ref[ref]]
            if order.status == "Processing":
                self._ship(order, self.clock.now())
            return self._truth(order)

    def set_stock(self, site: Any, sku: str, units: int) -> None:
        """`site` is ignored: this emulator is one fulfilment location."""
        with self.lock:
            self.on_hand[sku] = units

    def outbound_truth(self) -> list[dict[str, Any]]:
        with self.lock:
            self._advance()
            return [self._truth(order) for order in self.sb_orders.values()]

    def _truth(self, order: ShipBobOrder) -> dict[str, Any]:
        ship_to = _destination(order.recipient.get("address") or {})
        return {"reference": order.reference_id, "id": order.id, "shipment_id": order.shipment_id,
                "status": order.status, "picked": order.picked_at is not None,
                "shipped_at": order.shipped_at.isoformat() if order.shipped_at else None,
                "ship_to": ship_to, "ship_to_fingerprint": ship_to["fingerprint"],
                "shipped_to_fingerprint": _destination(order.shipped_to)["fingerprint"]
                if order.shipped_to is not None else None,
                "address_updates": [dict(u) for u in order.address_updates]}

    def inventory_truth(self) -> list[dict[str, Any]]:
        with self.lock:
            return [{"sku": sku, "on_hand": units, "committed": self.committed[sku],
                     "fulfillable": max(0, units - self.committed[sku])} for sku, units in sorted(self.on_hand.items())]

    def cancellation_truth(self) -> list[dict[str, Any]]:
        with self.lock:
            return [{"reference": ref} for ref in self.cancellations]


def _destination(address: dict[str, Any]) -> dict[str, Any]:
    street = " ".join(str(address.get(k)) for k in ("address1", "address2") if address.get(k))
    return destination(street, address.get("city"), address.get("state"), address.get("zip_code"),
                       address.get("country"))
