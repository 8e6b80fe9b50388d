"""ShipBob's recipient address: as a create sends it, as `:updateAddress` sends it, and what comes back.

`PUT /{version}/shipment/{shipmentId}:updateAddress` (docs/platforms/shipbob.md, source H) is
documented for the 2026-01 and 2026-07 API versions only. Its body is `Orders.UpdateAddressRequest`
(`street_address1` and `city` required) and its 200 answer is `{id, is_success, error{code, message}}`;
a 400 carries `{code, message}`. Nothing here decides an update went through without `is_success`
or without reading the new address back from ShipBob.
"""

from __future__ import annotations

from typing import Any

from connectors.exchange import Answer
from pipeline.address_changes import same_text
from pipeline.stages import OutboundState

ADDRESS_VERSIONS = ("2026-01", "2026-07")
DEFAULT_ADDRESS_VERSION = "2026-01"
# Status details of a Processing shipment once picking is done (status reference, source G: 100 Picked,
# 101 Packed, 102 Labeled): the parcel is being made up for the address it already has.
PICKED_DETAILS = frozenset({"Picked", "Packed", "Labeled"})
STATE = {"Processing": OutboundState.OPEN, "OnHold": OutboundState.OPEN, "Completed": OutboundState.SHIPPED,
         "Exception": OutboundState.EXCEPTION, "Cancelled": OutboundState.CANCELLED}
# The body fields that decide where the parcel goes, and where a shipment's `recipient` holds each.
WHERE = {"recipient_name": ("name",), "company_name": ("address", "company_name"),
         "street_address1": ("address", "address1"), "street_address2": ("address", "address2"),
         "city": ("address", "city"), "state": ("address", "state"), "zip_code": ("address", "zip_code"),
         "country_code": ("address", "country")}


def street2(address: Any) -> str:
    """ShipBob has two street lines: the third canonical line goes on the second, never dropped."""
    return " ".join(p for p in (address.line2, address.line3) if p)


def recipient(address: Any) -> dict[str, Any]:
    """`recipient` of a create order body (source C)."""
    return {"name": address.name, "email": address.email, "phone_number": address.phone,
            "address": {"address1": address.line1, "address2": street2(address), "city": address.city,
                        "state": address.region or "", "zip_code": address.postal_code or "",
                        "country": address.country, "company_name": address.company or ""}}


def update_body(address: Any) -> dict[str, Any] | None:
    """`Orders.UpdateAddressRequest` for `address`; None when it lacks a field ShipBob requires.

    The place fields always go, empty rather than null, so a second street line or a company the
    old address had cannot survive (what ShipBob does with a null is not documented). Phone and
    e-mail go only when known: they do not move the parcel."""
    if not address.line1 or not address.city:
        return None
    body = {"recipient_name": address.name or "", "company_name": address.company or "",
            "street_address1": address.line1, "street_address2": street2(address), "city": address.city,
            "state": address.region or "", "zip_code": address.postal_code or "", "country_code": address.country}
    if address.phone:
        body["phone_number"] = address.phone
    if address.email:
        body["email"] = address.email
    return body


def answer(response: Answer, body: Any) -> str | None:
    """None when ShipBob confirmed the update (`is_success: true`), else its reason in its own words."""
    if not isinstance(body, dict):
        return f"HTTP {response.status_code} without an answer"
    if response.status_code < 300 and body.get("is_success") is True:
        return None
    error = body.get("error") if isinstance(body.get("error"), dict) else body
    code, message = error.get("code") or "", error.get("message") or body.get("title") or ""
    if not (code or message):
        return f"HTTP {response.status_code}: the update was not confirmed"
    return f"{code}: {message}" if code and message else str(code or message)


def live_shipments(order: dict[str, Any]) -> list[dict[str, Any]]:
    """The shipments of an order that may still leave the warehouse (a cancelled one goes nowhere)."""
    return [s for s in order.get("shipments") or [] if s.get("id") is not None and s.get("status") != "Cancelled"]


def state_of(order: dict[str, Any]) -> OutboundState:
    """An order's state as AddressUpdate reports it: its least advanced live shipment, PICKED once
    picking is done but the parcel has not left."""
    states = []
    for shipment in order.get("shipments") or []:
        status = str(shipment.get("status") or "")
        details = shipment.get("status_details")
        names = {str(d.get("name")) for d in details if isinstance(d, dict)} if isinstance(details, list) else set()
        states.append(OutboundState.PICKED if status == "Processing" and names & PICKED_DETAILS
                      else STATE.get(status, OutboundState.OPEN))
    for state in (OutboundState.OPEN, OutboundState.EXCEPTION, OutboundState.PICKED, OutboundState.SHIPPED):
        if state in states:
            return state
    return OutboundState.CANCELLED if states or order.get("status") == "Cancelled" else OutboundState.OPEN


def ships_to(order: dict[str, Any], body: dict[str, Any]) -> bool:
    """Whether every live shipment's recipient (read back from ShipBob) already is the `body` address."""
    shipments = live_shipments(order)
    if not shipments:
        return False
    for shipment in shipments:
        held = shipment.get("recipient") or order.get("recipient") or {}
        for field, path in WHERE.items():
            value: Any = held
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if not same_text(value, body.get(field)):
                return False
    return True
