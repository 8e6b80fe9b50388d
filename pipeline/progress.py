"""How far every order of a seller has come, and whether anything is still moving.

Read from the store's status and stage of each order and from the fulfilment's tracking index, never
by counting keys that match a pattern (another key family can match it: the demo once waited
forever because a new cursor key matched `*:shipments:*`). The demo waits for `quiet`; an operator
reads the same places in `orderhub status`.

An order stands in exactly one place. Open places are Orderhub's to move (to route, to submit, at a
warehouse, tracking to push); the others are final, or are the platform's to move (an unpaid order
waits for the buyer, not for us).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import msgspec

from pipeline.fulfilment import tracking_unsettled
from pipeline.model import OrderStatus
from pipeline.stages import Stage
from pipeline.store import UNMAPPED, OrderState, OrderStore
from pipeline.submissions import submitted_per_warehouse

OPEN_PLACES = ("to route", "to submit", "at warehouse")
"""Places an order leaves only through Orderhub's own work."""

_STAGE_PLACES = {Stage.ROUTED: "to submit", Stage.SUBMITTED: "at warehouse", Stage.SHIPPED: "shipped",
                 Stage.IGNORED: "ignored", Stage.CANCELLED: "cancelled"}


def place(state: OrderState) -> str:
    """The one place an order stands in (see the module docstring)."""
    if state.hold is not None:
        return "held"
    if state.stage in _STAGE_PLACES:
        return _STAGE_PLACES[state.stage]
    if state.status == OrderStatus.CANCELLED:
        return "cancelled"
    if state.status == OrderStatus.PENDING:
        return "awaiting platform"
    if state.status in (OrderStatus.READY, OrderStatus.PARTIALLY_SHIPPED, UNMAPPED):
        return "to route"  # an unmapped payload is held at once: unheld, it has not been stored whole yet
    return "shipped elsewhere"  # shipped or delivered on the platform before Orderhub routed it


class Progress(msgspec.Struct, kw_only=True):
    """Counts per place, per platform, per warehouse and per hold reason of one seller."""

    seller: str
    places: dict[str, int]
    platforms: dict[str, int]
    warehouses: dict[str, int]
    holds: dict[str, int]
    tracking_due: int

    @property
    def stored(self) -> int:
        return sum(self.places.values())

    @property
    def open(self) -> dict[str, int]:
        """What Orderhub still has to do: orders per open place, and shipments whose tracking waits."""
        counts = {name: self.places[name] for name in OPEN_PLACES if self.places.get(name)}
        if self.tracking_due:
            counts["tracking to push"] = self.tracking_due
        return counts


def progress(store: OrderStore, seller: str, warehouses: Iterable[str]) -> Progress:
    states = store.states(seller)
    places = Counter(place(state) for state in states)
    platforms = Counter(state.platform for state in states)
    holds = Counter(state.hold for state in states if state.hold)
    return Progress(seller=seller, places=dict(places), platforms=dict(platforms),
                    warehouses=dict(submitted_per_warehouse(store, seller, [s.key for s in states])), holds=dict(holds),
                    tracking_due=tracking_unsettled(store, seller, sorted(warehouses)))
