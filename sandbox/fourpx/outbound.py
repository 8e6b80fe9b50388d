"""The 4PX emulator's outbound orders: the record of each, how it moves over sandbox time, and its methods.

An outbound moves S → P (picked: "taken off the shelf") → C (shipped, with carrier and tracking) on
the sandbox clock, or to E with sub-status S when stock is short; ``advance`` moves every outbound
still in progress and runs at the start of each call that reads them. ``truth`` is an outbound's row
of the ground truth; 4PX publishes no method that changes an outbound's consignee, so its address
updates are always none. Kept apart from the emulator (the router, signing, stock and test levers);
these handlers name what they use of it with a Protocol.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sandbox.core.control import destination
from sandbox.core.http_types import Request, Response
from sandbox.core.server import EmulatorState
from sandbox.fourpx.shapes import body_of, error, ms, ok, paged

# Chosen codes (4PX publishes none): duplicate ref, not found, state, a bad parameter.
E_DUPLICATE_REF, E_NOT_FOUND, E_STATE, E_PARAM = "OUT-1001", "OUT-1002", "OUT-1003", "OUT-1000"


@dataclass
class Outbound:
    consignment_no: str
    ref_no: str
    warehouse: str
    skus: list[tuple[str, int]]
    created_at: datetime
    consignee: dict[str, Any] = field(default_factory=dict)  # oconsignment_desc as created
    status: str = "S"
    sub_status: str = ""
    tracking_no: str = ""
    carrier: str = ""
    picked_at: datetime | None = None
    completed_at: datetime | None = None
    shipped_to: dict[str, Any] | None = None  # the consignee the parcel left with


class FourPXWarehouse(EmulatorState, Protocol):
    """What these handlers use of ``FourPXEmulator`` (it satisfies this; importing it here would be a
    cycle)."""

    warehouses: tuple[str, ...]
    on_hand: dict[tuple[str, str], int]
    pending: Counter[tuple[str, str]]
    outbounds: dict[str, Outbound]
    moving: set[str]
    by_ref: dict[str, str]
    creates: Counter[str]
    cancellations: list[str]
    pick_after: float
    ship_after: float


def advance(emu: FourPXWarehouse) -> None:
    """Move each outbound still in progress to where the sandbox clock has it now (picked, then shipped)."""
    now = emu.clock.now()
    for number in list(emu.moving):
        out = emu.outbounds[number]
        if out.status == "S" and now >= out.created_at + timedelta(seconds=emu.pick_after):
            out.status, out.picked_at = "P", out.created_at + timedelta(seconds=emu.pick_after)
        if out.status == "P" and now >= out.created_at + timedelta(seconds=emu.ship_after):
            ship(emu, out, out.created_at + timedelta(seconds=emu.ship_after))
        if out.status not in ("S", "P"):
            emu.moving.discard(number)


def ship(emu: FourPXWarehouse, out: Outbound, when: datetime) -> None:
    """Ship ``out`` at ``when``: carrier and tracking, and its units leave the warehouse's stock."""
    out.status, out.completed_at = "C", when
    out.picked_at, out.shipped_to = out.picked_at or when, dict(out.consignee)
    out.carrier = {"US": "USPS", "DE": "DHL", "JP": "YAMATO"}.get(out.warehouse[:2], "DHL")
    out.tracking_no = "4PX" + hashlib.sha256(out.ref_no.encode()).hexdigest()[:14].upper()
    for sku, qty in out.skus:
        emu.pending[(out.warehouse, sku)] -= qty
        emu.on_hand[(out.warehouse, sku)] -= qty


def create_outbound(emu: FourPXWarehouse, request: Request) -> Response:
    body = body_of(request)
    missing = [k for k in ("ref_no", "from_warehouse_code", "consignment_type", "oconsignment_desc",
                           "oconsignment_sku") if not body.get(k)]
    if missing:
        return error(E_PARAM, f"missing {', '.join(missing)}")
    ref, wh = str(body["ref_no"]), str(body["from_warehouse_code"])
    if ref in emu.by_ref:
        return error(E_DUPLICATE_REF, f"ref_no {ref} already exists")
    if wh not in emu.warehouses:
        return error(E_PARAM, f"unknown from_warehouse_code {wh}")
    skus = [(str(s.get("sku_code")), int(s.get("qty", 0))) for s in body["oconsignment_sku"]]
    if any(qty <= 0 for _, qty in skus) or len(skus) > 100:
        return error(E_PARAM, "oconsignment_sku needs 1..100 SKUs with qty > 0")
    number = f"OC{len(emu.outbounds) + 1:010d}"
    desc = body["oconsignment_desc"]
    out = Outbound(number, ref, wh, skus, emu.clock.now(), dict(desc) if isinstance(desc, dict) else {})
    short = [sku for sku, qty in skus if emu.on_hand.get((wh, sku), 0) - emu.pending[(wh, sku)] < qty]
    if short:
        out.status, out.sub_status = "E", "S"  # accepted, then stuck: out of stock
    else:
        for sku, qty in skus:
            emu.pending[(wh, sku)] += qty
    emu.outbounds[number], emu.by_ref[ref] = out, number
    emu.moving.add(number)
    emu.creates[ref] += 1
    return ok({"consignment_no": number, "4px_tracking_no": "4PX" + number[2:]})


def list_outbounds(emu: FourPXWarehouse, request: Request) -> Response:
    advance(emu)
    body = body_of(request)
    rows = list(emu.outbounds.values())
    if body.get("ref_no"):
        rows = [o for o in rows if o.ref_no == body["ref_no"]]
    if body.get("consignment_no"):
        rows = [o for o in rows if o.consignment_no == body["consignment_no"]]
    if body.get("status"):
        rows = [o for o in rows if o.status == body["status"]]
    start, end = body.get("complete_time_start"), body.get("complete_time_end")
    if start is not None or end is not None:
        rows = [o for o in rows if o.completed_at and (start is None or ms(o.completed_at) >= int(start))
                and (end is None or ms(o.completed_at) <= int(end))]
    page = paged(body, rows, default=50, maximum=500)
    return ok(page | {"data": [render(o) for o in page["data"]]})


def cancel_outbound(emu: FourPXWarehouse, request: Request) -> Response:
    advance(emu)
    body = body_of(request)
    number = body.get("consignment_no") or emu.by_ref.get(str(body.get("ref_no")))
    out = emu.outbounds.get(str(number))
    if out is None:
        return error(E_NOT_FOUND, "outbound order not found")
    if out.status in ("C", "X", "D"):
        return error(E_STATE, f"outbound order in status {out.status} cannot be cancelled")
    if out.status != "E":
        for sku, qty in out.skus:
            emu.pending[(out.warehouse, sku)] -= qty
    out.status = "X"
    emu.cancellations.append(out.ref_no)
    return ok({"consignment_no": out.consignment_no})


def render(out: Outbound) -> dict[str, Any]:
    consignee = {k: out.consignee.get(k, "") for k in CONSIGNEE}  # list items carry it (source I)
    return consignee | {
        "consignment_no": out.consignment_no, "ref_no": out.ref_no, "status": out.status,
        "sub_status": out.sub_status, "4px_tracking_no": "4PX" + out.consignment_no[2:],
        "shipping_no": out.tracking_no, "carrier_code": out.carrier, "warehouse_code": out.warehouse,
        "create_time": ms(out.created_at), "complete_time": ms(out.completed_at),
        "outboundlist_sku": [{"sku_code": s, "qty": q} for s, q in out.skus]}


def truth(out: Outbound) -> dict[str, Any]:
    ship_to = _destination(out.consignee)
    return {"reference": out.ref_no, "consignment_no": out.consignment_no, "warehouse": out.warehouse,
            "status": out.status, "sub_status": out.sub_status, "picked": out.picked_at is not None,
            "shipped_at": out.completed_at.isoformat() if out.completed_at else None,
            "ship_to": ship_to, "ship_to_fingerprint": ship_to["fingerprint"],
            "shipped_to_fingerprint": _destination(out.shipped_to)["fingerprint"] if out.shipped_to is not None
            else None,
            "address_updates": []}  # 4PX takes none (see the module docstring)


CONSIGNEE = ("country", "state", "city", "district", "post_code", "street", "house_number", "company",
             "first_name", "last_name", "phone", "email")


def _destination(consignee: dict[str, Any]) -> dict[str, Any]:
    street = " ".join(str(consignee.get(k) or "") for k in ("street", "house_number") if consignee.get(k))
    return destination(street, consignee.get("city"), consignee.get("state"), consignee.get("post_code"),
                       consignee.get("country"))
