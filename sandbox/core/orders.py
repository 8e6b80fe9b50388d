"""The platform-neutral order: its lines, its script of events and the state they fold to at an instant.

Each order is a list of events (placed, paid, address changed, shipped in one or two parcels,
cancelled before or after release). An event has the update time the platform reports (``at``) and
the time it becomes visible in the API (``visible_at``). Emulators render ``GeneratedOrder.state(now)``
in their own format and append events for pushes. Kept apart from ``sandbox.core.generator``, which
draws a seeded book of these orders, so that what an order is does not sit inside how one is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from sandbox.core.world import MARKETS, CatalogueItem


class Status(StrEnum):
    PENDING = "PENDING"  # placed, not paid / not released to the seller
    READY = "READY"  # paid, waiting for shipment
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


class EventKind(StrEnum):
    PLACED = "PLACED"
    PAID = "PAID"
    ADDRESS_CHANGED = "ADDRESS_CHANGED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Address:
    name: str
    phone: str
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: str


@dataclass(frozen=True)
class OrderLine:
    line_no: int
    item: CatalogueItem
    quantity: int
    unit_price: Decimal  # in the order currency, tax included where the market includes it
    unit_tax: Decimal  # the tax part (included or added, see Market.tax_included)


Unit = tuple[int, int]  # (line_no, unit_no starting at 1): TikTok shows each unit as its own row


@dataclass(frozen=True)
class Shipment:
    units: tuple[Unit, ...]  # empty: "whatever is still unshipped" (generated shipments)
    carrier: str
    tracking_number: str
    package_ref: str


@dataclass(frozen=True)
class OrderEvent:
    kind: EventKind
    at: datetime  # the update time the platform reports
    visible_at: datetime  # when the API starts showing it (later than `at` for late updates)
    address: Address | None = None
    shipment: Shipment | None = None
    initiator: str = ""  # cancellations: BUYER | SELLER | SYSTEM
    source: str = "generated"  # or "push" for events caused by API calls


@dataclass(frozen=True)
class OrderState:
    """An order as the API shows it at one instant."""

    status: Status
    updated_at: datetime
    paid_at: datetime | None
    address: Address
    shipped: dict[Unit, Shipment]
    cancelled_at: datetime | None
    cancel_initiator: str
    address_changed: bool
    first_shipped_at: datetime | None = None

    def shipped_quantity(self, line_no: int) -> int:
        return sum(1 for (line, _unit) in self.shipped if line == line_no)


@dataclass(frozen=True)
class _Fold:
    """A folded state, valid while ``events`` is the same list of ``count`` events and the clock is
    in [since, until): no event turns visible in between, so the fold cannot differ."""

    events: list[OrderEvent]
    count: int
    since: datetime
    until: datetime
    state: OrderState


@dataclass
class GeneratedOrder:
    serial: str  # 14 random digits; emulators build their platform ids from it
    account: str  # the shop/seller it belongs to (assigned by the emulator)
    country: str
    currency: str
    platform_fulfilled: bool  # Amazon AFN / TikTok FBT: the platform ships, the seller must not
    created_at: datetime
    lines: tuple[OrderLine, ...]
    shipping_fee: Decimal
    buyer_email_local: str
    address: Address
    express: bool
    events: list[OrderEvent] = field(default_factory=list)
    # The last fold and the span of sandbox time it holds for: every list call folds every order, so
    # without it a list over a large book costs a full fold per order per call.
    _memo: _Fold | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def ship_by(self) -> datetime:
        return self.created_at + timedelta(days=2)

    def units(self) -> list[Unit]:
        return [(line.line_no, n) for line in self.lines for n in range(1, line.quantity + 1)]

    def subtotal(self) -> Decimal:
        return sum((line.unit_price * line.quantity for line in self.lines), Decimal(0))

    def tax_total(self) -> Decimal:
        return sum((line.unit_tax * line.quantity for line in self.lines), Decimal(0))

    def total(self) -> Decimal:
        added_tax = Decimal(0) if MARKETS[self.country].tax_included else self.tax_total()
        return self.subtotal() + self.shipping_fee + added_tax

    def visible(self, now: datetime) -> bool:
        return self.created_at <= now

    def state(self, now: datetime) -> OrderState:
        """The fold of the events visible at ``now``, reused while the same events are visible."""
        memo = self._memo
        if memo is not None and memo.events is self.events and memo.count == len(self.events) \
                and memo.since <= now < memo.until:
            return memo.state
        state = self._fold(now)
        seen = [e.visible_at for e in self.events if e.visible_at <= now]
        ahead = [e.visible_at for e in self.events if e.visible_at > now]
        since = max(seen, default=datetime.min.replace(tzinfo=now.tzinfo))
        until = min(ahead, default=datetime.max.replace(tzinfo=now.tzinfo))
        self._memo = _Fold(self.events, len(self.events), since, until, state)
        return state

    def _fold(self, now: datetime) -> OrderState:
        """Fold the events visible at ``now`` in update-time order.

        Events that no longer apply are skipped without touching the update time: a generated
        shipment finds nothing left because a pushed one shipped it already, a cancellation
        arrives after something shipped.
        """
        status, updated, paid_at = Status.PENDING, self.created_at, None
        address, changed = self.address, False
        shipped: dict[Unit, Shipment] = {}
        cancelled_at, initiator, first_shipped = None, "", None
        for event in sorted(self.events, key=lambda e: e.at):
            if event.visible_at > now or event.kind is EventKind.PLACED:
                continue
            if event.kind is EventKind.PAID and status is Status.PENDING:
                status, paid_at = Status.READY, event.at
            elif event.kind is EventKind.ADDRESS_CHANGED and status is Status.READY and event.address:
                address, changed = event.address, True
            elif event.kind is EventKind.CANCELLED and status in (Status.PENDING, Status.READY):
                status, cancelled_at, initiator = Status.CANCELLED, event.at, event.initiator
            elif event.kind is EventKind.SHIPPED and event.shipment and status in (
                    Status.READY, Status.PARTIALLY_SHIPPED):
                todo = [u for u in (event.shipment.units or self.units()) if u not in shipped]
                if not todo:
                    continue
                shipped.update(dict.fromkeys(todo, event.shipment))
                first_shipped = first_shipped or event.at
                full = len(shipped) == len(self.units())
                status = Status.SHIPPED if full else Status.PARTIALLY_SHIPPED
            else:
                continue
            updated = max(updated, event.at)
        return OrderState(status, updated, paid_at, address, shipped, cancelled_at, initiator, changed,
                          first_shipped)

    def add_event(self, event: OrderEvent) -> None:
        self.events.append(event)
