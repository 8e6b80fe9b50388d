"""A buyer's new ship-to that Orderhub first reads after the order was archived.

A platform can show an address change late: the buyer changed it while the warehouse was packing, the
warehouse shipped to the old door, tracking went out, the order closed and left Redis, and only then did
a sync list the order again with the new ship-to. In Redis the same news is an
ADDRESS_CHANGED_AFTER_SUBMIT hold (pipeline/address_changes.py); an archived order gets the same hold on
its archived row, beside an `address_changed` event with both addresses, so `orderhub holds list` and the
metrics show it and ops can chase the parcel. Nothing is sent anywhere: the parcel has left, and the
order stays archived (bringing it back hot would hand the router an order whose submissions are gone).

Where the parcel went is the archived ship-to: an order is archived only without a hold, so every
outbound it had shipped to that address (or took it as an update).
"""

from __future__ import annotations

import msgspec
from sqlalchemy import Connection, select

from pipeline.address_changes import moved_elsewhere, where
from pipeline.archive import schema
from pipeline.model import Address, EventKind, HoldReason
from pipeline.stages import OutboundState

_ADDRESS = msgspec.json.Decoder(Address)
_ADDRESSES = msgspec.json.Encoder()


def late_address_hold(conn: Connection, order_id: int, archived_ship_to: str | None, hold_reason: str | None,
                      ship_to: Address | None) -> tuple[dict, dict] | None:
    """(values for the archived `orders` row, one `order_events` row without its order id and seq) when
    `ship_to`, the copy listed again, sends the parcel somewhere other than where a warehouse shipped it;
    None when it does not, when the archived order never went to a warehouse, or when it is held already."""
    if ship_to is None or archived_ship_to is None or hold_reason is not None:
        return None
    sent = _ADDRESS.decode(archived_ship_to)
    if not moved_elsewhere(sent, ship_to):
        return None
    subs = schema.order_submissions
    outbounds = [f"{row.warehouse} outbound {row.reference} ({row.state})" for row in conn.execute(
        select(subs.c.warehouse, subs.c.reference, subs.c.state)
        .where(subs.c.order_id == order_id, subs.c.state != OutboundState.CANCELLED.value)
        .order_by(subs.c.warehouse))]
    if not outbounds:
        return None  # platform-fulfilled, or cancelled before anything shipped: no parcel went astray
    detail = (f"buyer changed the ship-to after the order was archived: {', '.join(outbounds)} shipped to "
              f"{where(sent)}, the order now goes to {where(ship_to)}; intercept the parcel or reship")
    values = {"hold_reason": HoldReason.ADDRESS_CHANGED_AFTER_SUBMIT.value, "hold_detail": detail,
              "ship_to": _ADDRESSES.encode(ship_to).decode()}
    event = {"kind": EventKind.ADDRESS_CHANGED.value, "detail": detail,
             "addresses": _ADDRESSES.encode({"sent": sent, "now": ship_to}).decode()}
    return values, event
