"""Create a warehouse outbound order exactly once, whatever happens to the request; cancel it safely.

The client reference is derived from the order key (pipeline/identity.py `outbound_reference`), so
every attempt names the same outbound order. A create whose answer is lost (timeout, reset, 5xx) may still have happened: look the
reference up before trying again. A create the warehouse refuses may be a duplicate of one that did
happen: look it up too, and only then report the refusal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pipeline.errors import NeedsReview, RetryableError
from pipeline.ports import OutboundStatus
from pipeline.stages import FINISHED, OutboundState


def submit_once(create: Callable[[], OutboundStatus], find: Callable[[str], OutboundStatus | None],
                reference: str, *, attempts: int = 3) -> OutboundStatus:
    for attempt in range(1, attempts + 1):
        try:
            return create()
        except RetryableError:
            existing = find(reference)
            if existing is not None:
                return existing
            if attempt == attempts:
                raise
        except NeedsReview:
            existing = find(reference)
            if existing is not None:
                return existing
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def cancel_once(find: Callable[[str], OutboundStatus | None], send_cancel: Callable[[OutboundStatus], object],
                reference: str, *, warehouse: str) -> OutboundStatus:
    """Cancel an open outbound order. One already shipped, cancelled or in exception is returned as it
    is (the caller flags CANCEL_TOO_LATE for a shipped one); a refusal that turns out to be a race with
    the shipment is answered with the new state."""
    current = find(reference)
    if current is None:
        raise NeedsReview(f"{warehouse} has no outbound order {reference}")
    if current.state != OutboundState.OPEN:
        return current
    try:
        send_cancel(current)
    except NeedsReview:
        after = find(reference)
        if after is not None and after.state in FINISHED:
            return after
        raise
    return find(reference) or current


# --- address updates (pipeline.ports.AddressUpdate) -------------------------------------------

NOT_FOUND = OutboundState.NOT_FOUND
"""AddressUpdate.state when the warehouse has no outbound order under the reference."""
PICKED = OutboundState.PICKED
"""AddressUpdate.state of an outbound the warehouse has picked but not shipped: too late to re-address.
(OutboundStatus keeps calling it OPEN: for cancel and the shipment poll it is still open.)"""
BUYER_FIELDS = ("name", "company", "phone", "email", "line1", "line2", "line3")


def without_buyer_data(text: str, *addresses: Any) -> str:
    """`text` with the buyer's name, company, street lines, phone and e-mail cut out.

    A warehouse's refusal may echo what it was sent, and AddressUpdate.detail ends up in holds,
    timelines and logs, which must never carry buyer data. Whole values and the words of a name
    (three characters or more) are replaced, case aside."""
    values: set[str] = set()
    for address in addresses:
        for name in BUYER_FIELDS:
            value = " ".join(str(getattr(address, name, None) or "").split())
            if len(value) >= 3:
                values.add(value)
                if name in ("name", "company"):
                    values.update(word for word in value.split() if len(word) >= 3)
    for value in sorted(values, key=len, reverse=True):  # whole values before their words
        text = re.sub(re.escape(value), "[buyer data]", text, flags=re.IGNORECASE)
    return text
