"""The ShipBob emulator's orders: the record of each, how it moves over sandbox time, and its endpoints.

An order moves Processing → Processing/Picked (status detail 100) → Completed (with carrier and
tracking) on the sandbox clock; ``advance`` moves every order still in progress and runs at the start
of each call that reads them. ``truth`` is an order's row of the outbound ground truth. Kept apart from
the emulator (routes, auth, the rate window, stock and test levers); these handlers name what they use
of it with a Protocol.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sandbox.core.control import destination
from sandbox.core.http_types import Request, Response
from sandbox.core.server import EmulatorState

PICKED = {"id": 100, "name": "Picked", "description": "Picking Completed"}  # status reference


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


class ShipBobWarehouse(EmulatorState, Protocol):
    """What these handlers use of ``ShipBobEmulator`` (it satisfies this; importing it here would be a
    cycle)."""

    sb_orders: dict[int, ShipBobOrder]
    by_ref: dict[str, int]
    creates: Counter[str]
    processing: set[int]
    cancellations: list[str]
    on_hand: dict[str, int]
    committed: Counter[str]
    pick_after: float
    ship_after: float


def advance(emu: ShipBobWarehouse) -> None:
    """Move each order still in progress to where the sandbox clock has it now (picked, then shipped)."""
    now = emu.clock.now()
    for order_id in list(emu.processing):
        order = emu.sb_orders[order_id]
        picked = order.created_at + timedelta(seconds=min(emu.pick_after, emu.ship_after))
        if order.status == "Processing" and order.picked_at is None and now >= picked:
            order.picked_at = picked
        if order.status == "Processing" and now >= order.created_at + timedelta(seconds=emu.ship_after):
            ship(emu, order, order.created_at + timedelta(seconds=emu.ship_after))
        if order.status != "Processing":
            emu.processing.discard(order_id)


def ship(emu: ShipBobWarehouse, order: ShipBobOrder, when: datetime) -> None:
    """Ship ``order`` at ``when``: carrier and tracking, and its units leave the stock."""
    order.status, order.shipped_at, order.carrier = "Completed", when, "USPS"
    order.picked_at = order.picked_at or when
    order.shipped_to = dict(order.recipient.get("address") or {})
    order.tracking_number = "9400" + str(int(hashlib.sha256(order.reference_id.encode()).hexdigest()[:12], 16))[:18]
    for p in order.products:
        emu.committed[p["reference_id"]] -= p["quantity"]
        emu.on_hand[p["reference_id"]] = emu.on_hand.get(p["reference_id"], 0) - p["quantity"]


def create_order(emu: ShipBobWarehouse, request: Request) -> Response:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return Response.json(400, {"message": "The request body is not valid JSON."})
    missing = [k for k in ("reference_id", "shipping_method", "recipient", "products") if not body.get(k)]
    if missing:
        return Response.json(400, {"message": "Validation failed", "errors": {k: ["required"] for k in missing}})
    ref = str(body["reference_id"])
    if ref in emu.creates:
        return Response.json(422, {"message": f"An order with reference_id {ref} already exists."})
    products = [{"reference_id": str(p.get("reference_id")), "name": p.get("name", ""), "quantity": int(p.get("quantity", 0))}
                for p in body["products"]]
    recipient = dict(body["recipient"]) if isinstance(body["recipient"], dict) else {}
    recipient["address"] = dict(recipient.get("address") or {})
    order = ShipBobOrder(len(emu.sb_orders) + 100001, ref, products, recipient, emu.clock.now())
    short = [p for p in products if emu.on_hand.get(p["reference_id"], 0) - emu.committed[p["reference_id"]] < p["quantity"]]
    if short:
        order.status = "Exception"
    else:
        for p in products:
            emu.committed[p["reference_id"]] += p["quantity"]
    emu.sb_orders[order.id] = order
    emu.by_ref[ref] = order.id
    emu.processing.add(order.id)
    emu.creates[ref] += 1
    return Response.json(201, render(order))


def list_orders(emu: ShipBobWarehouse, request: Request) -> Response:
    advance(emu)
    rows = list(emu.sb_orders.values())
    refs = request.arg("ReferenceIds")
    if refs:
        rows = [o for o in rows if o.reference_id in refs.split(",")]
    if request.arg("HasTracking") == "true":
        rows = [o for o in rows if o.tracking_number]
    if request.arg("IsTrackingUploaded") == "false":
        rows = [o for o in rows if not o.tracking_uploaded]
    page = max(1, int(request.arg("Page") or 1))
    limit = min(250, max(1, int(request.arg("Limit") or 50)))
    return Response.json(200, [render(o) for o in rows[(page - 1) * limit: page * limit]])


def get_order(emu: ShipBobWarehouse, request: Request) -> Response:
    advance(emu)
    order = emu.sb_orders.get(int(request.params["order_id"])) if request.params["order_id"].isdigit() else None
    return Response.json(200, render(order)) if order else Response.json(404, {"message": "Order not found"})


def cancel_order(emu: ShipBobWarehouse, request: Request) -> Response:
    advance(emu)
    order = emu.sb_orders.get(int(request.params["order_id"])) if request.params["order_id"].isdigit() else None
    if order is None:
        return Response.json(404, {"message": "Order not found"})
    if order.status == "Completed":
        return Response.json(422, {"message": "The order has already shipped and cannot be cancelled."})
    if order.status == "Processing":
        for p in order.products:
            emu.committed[p["reference_id"]] -= p["quantity"]
    order.status = "Cancelled"
    emu.cancellations.append(order.reference_id)
    return Response.json(200, render(order))


def update_address(emu: ShipBobWarehouse, request: Request) -> Response:
    """`Orders.UpdateAddressRequest` in; `{id, is_success, error{code, message}}` out (200), or a 400
    `{code, message}` for a body it cannot take or a shipment it does not know. Refusing a picked,
    shipped or cancelled shipment, and the wording, are ours (ShipBob documents no rule here; it
    refuses cancelling a shipment once picked, packed or shipped)."""
    advance(emu)
    sid = request.params["shipment_id"]
    order = emu.sb_orders.get(int(sid) // 10) if sid.isdigit() and int(sid) % 10 == 0 else None
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
    order.address_updates.append({"at": emu.clock.now().isoformat(), "applied": refusal is None,
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


def render(order: ShipBobOrder) -> dict[str, Any]:
    shipment = {"id": order.shipment_id, "status": order.status, "recipient": order.recipient,
                "status_details": [PICKED] if order.picked_at and order.status == "Processing" else [],
                "tracking": ({"carrier": order.carrier, "tracking_number": order.tracking_number,
                              "shipping_date": order.shipped_at.isoformat()} if order.tracking_number else None)}
    return {"id": order.id, "reference_id": order.reference_id, "status": order.status,
            "created_date": order.created_at.isoformat(), "products": order.products,
            "recipient": order.recipient, "shipments": [shipment]}


def truth(order: ShipBobOrder) -> dict[str, Any]:
    ship_to = _destination(order.recipient.get("address") or {})
    return {"reference": order.reference_id, "id": order.id, "shipment_id": order.shipment_id,
            "status": order.status, "picked": order.picked_at is not None,
            "shipped_at": order.shipped_at.isoformat() if order.shipped_at else None,
            "ship_to": ship_to, "ship_to_fingerprint": ship_to["fingerprint"],
            "shipped_to_fingerprint": _destination(order.shipped_to)["fingerprint"]
            if order.shipped_to is not None else None,
            "address_updates": [dict(u) for u in order.address_updates]}


def _destination(address: dict[str, Any]) -> dict[str, Any]:
    street = " ".join(str(address.get(k)) for k in ("address1", "address2") if address.get(k))
    return destination(street, address.get("city"), address.get("state"), address.get("zip_code"),
                       address.get("country"))
