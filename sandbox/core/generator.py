"""Seeded, platform-neutral order generator with a lifecycle over (sandbox) time.

Each order is a fixed script of events (placed, paid, address changed, shipped in one or two
parcels, cancelled before or after release). An event has the update time the platform reports
(``at``) and the time it becomes visible in the API (``visible_at``): ~3% are late, visible only
minutes after their update time, which is what makes an incremental sync need an overlap window.
Emulators render ``GeneratedOrder.state(now)`` in their own format and append events for pushes.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from sandbox.core.world import ADDRESS_BOOKS, CATALOGUE, MARKETS, SECOND_LINES, CatalogueItem, quantize


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


def stable_digits(*parts: object, length: int) -> str:
    """A deterministic digit string (no leading zero) for ids derived from other ids."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()
    number = int(digest, 16) % (9 * 10 ** (length - 1)) + 10 ** (length - 1)
    return str(number)


@dataclass(frozen=True)
class GeneratorSettings:
    """Shape of the generated history; the defaults give a lively but mostly-settled world."""

    past: timedelta = timedelta(hours=48)  # orders are created over [anchor - past, anchor + future)
    future: timedelta = timedelta(hours=6)
    platform_fulfilled_share: float = 0.10
    cancel_before_release: float = 0.05
    cancel_after_release: float = 0.07
    address_change: float = 0.05
    ship_share: float = 0.70  # of paid, uncancelled orders that ship by themselves in the script
    partial_share: float = 0.30  # of multi-unit shipped orders that ship in two parcels
    late_update_share: float = 0.03
    late_by: tuple[int, int] = (180, 1200)  # seconds a late update stays invisible


def generate_orders(seed: int, count: int, anchor: datetime, countries: tuple[str, ...],
                    settings: GeneratorSettings | None = None) -> list[GeneratedOrder]:
    """``count`` orders for buyers in ``countries``; the same arguments always give the same orders."""
    settings = settings or GeneratorSettings()
    orders, serials = [], set()
    for index in range(count):
        rng = random.Random(f"orderhub-sandbox:{seed}:{index}")
        order = _order(rng, anchor, countries, settings)
        while order.serial in serials:  # astronomically rare, but ids must be unique
            order = replace(order, serial=str(rng.randrange(10**13, 10**14)))
        serials.add(order.serial)
        order.events = _lifecycle(rng, order, settings)
        orders.append(order)
    orders.sort(key=lambda o: o.created_at)
    return orders


def _order(rng: random.Random, anchor: datetime, countries: tuple[str, ...],
           settings: GeneratorSettings) -> GeneratedOrder:
    country = rng.choice(countries)
    market = MARKETS[country]
    span = (settings.past + settings.future).total_seconds()
    created = anchor - settings.past + timedelta(seconds=int(rng.random() * span))
    lines = []
    for line_no, item in enumerate(rng.sample(CATALOGUE, rng.choices((1, 2, 3, 4), (60, 25, 10, 5))[0]), 1):
        quantity = rng.choices((1, 2, 3, 5), (75, 17, 6, 2))[0]
        unit_price = _local_price(item.base_price_usd, market.currency, market.usd_rate)
        if market.tax_included:
            unit_tax = quantize(unit_price * market.tax_rate / (1 + market.tax_rate), market.currency)
        else:
            unit_tax = quantize(unit_price * market.tax_rate, market.currency)
        lines.append(OrderLine(line_no, item, quantity, unit_price, unit_tax))
    express = rng.random() < 0.35
    oversize = any(line.item.oversize for line in lines)
    fee = market.oversize_fee if oversize else (Decimal(0) if express else market.shipping_fee)
    return GeneratedOrder(
        serial=str(rng.randrange(10**13, 10**14)), account="", country=country,
        currency=market.currency, platform_fulfilled=rng.random() < settings.platform_fulfilled_share,
        created_at=created, lines=tuple(lines), shipping_fee=fee,
        buyer_email_local="".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(15)),
        address=random_address(rng, country), express=express)


def _local_price(usd: Decimal, currency: str, rate: Decimal) -> Decimal:
    raw = usd * rate
    if currency == "JPY":
        return max(Decimal(100), (raw / 100).to_integral_value(rounding="ROUND_FLOOR") * 100 - 20)
    if currency == "MXN":
        return raw.to_integral_value(rounding="ROUND_FLOOR") - 1 + Decimal("0.00")
    return raw.to_integral_value(rounding="ROUND_FLOOR") + Decimal("0.99")


def random_address(rng: random.Random, country: str) -> Address:
    book = ADDRESS_BOOKS[country]
    given, family = rng.choice(book.given_names), rng.choice(book.family_names)
    name = f"{family} {given}" if book.family_name_first else f"{given} {family}"
    city = rng.choice(book.cities)
    line1 = rng.choice(book.streets).format(n=rng.randint(1, 240))
    share, seconds = SECOND_LINES[country]
    line2 = rng.choice(seconds).format(n=rng.randint(1, 30)) if rng.random() < share else ""
    phone = "".join(str(rng.randint(0, 9)) if ch == "#" else ch for ch in book.phone_format)
    return Address(name, phone, line1, line2, city.city, city.region, rng.choice(city.postcodes), country)


def _lifecycle(rng: random.Random, order: GeneratedOrder, s: GeneratorSettings) -> list[OrderEvent]:
    created = order.created_at
    script: list[tuple[EventKind, datetime, dict]] = [(EventKind.PLACED, created, {})]
    if rng.random() < s.cancel_before_release:
        script.append((EventKind.CANCELLED, _after(rng, created, 20 * 60, 90 * 60),
                       {"initiator": rng.choice(("BUYER", "SYSTEM"))}))
        return _visibility(rng, script, s)
    paid = _after(rng, created, 30, 20 * 60)
    script.append((EventKind.PAID, paid, {}))
    if not order.platform_fulfilled and rng.random() < s.address_change:
        moved = replace(random_address(rng, order.country), name=order.address.name, phone=order.address.phone)
        script.append((EventKind.ADDRESS_CHANGED, _after(rng, paid, 10 * 60, 3 * 3600), {"address": moved}))
    last = script[-1][1]
    if rng.random() < s.cancel_after_release:
        script.append((EventKind.CANCELLED, _after(rng, last, 3600, 10 * 3600),
                       {"initiator": rng.choice(("BUYER", "SELLER"))}))
    elif rng.random() < s.ship_share:
        carrier = rng.choice(("UPS", "USPS", "FedEx", "DHL")) if order.country == "US" else "DHL"
        first_at = _after(rng, last, 4 * 3600, 40 * 3600)
        units = order.units()
        if len(units) > 1 and rng.random() < s.partial_share:
            split = rng.randint(1, len(units) - 1)
            script.append((EventKind.SHIPPED, first_at, {"shipment": _parcel(rng, carrier, tuple(units[:split]))}))
            if rng.random() < 0.6:
                script.append((EventKind.SHIPPED, _after(rng, first_at, 6 * 3600, 30 * 3600),
                               {"shipment": _parcel(rng, carrier, ())}))
        else:
            script.append((EventKind.SHIPPED, first_at, {"shipment": _parcel(rng, carrier, ())}))
    return _visibility(rng, script, s)


def _parcel(rng: random.Random, carrier: str, units: tuple[Unit, ...]) -> Shipment:
    tracking = "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16))
    return Shipment(units, carrier, tracking, str(rng.randint(1, 10**6)))


def _after(rng: random.Random, start: datetime, low: int, high: int) -> datetime:
    return start + timedelta(seconds=rng.randint(low, high))


def _visibility(rng: random.Random, script: list[tuple[EventKind, datetime, dict]],
                s: GeneratorSettings) -> list[OrderEvent]:
    """Turn the script into events, delaying the visibility of ~late_update_share of the updates.

    A late update is never held past the next event, so the fold order stays the causal order.
    """
    events = []
    for i, (kind, at, extra) in enumerate(script):
        visible = at
        if kind is not EventKind.PLACED and rng.random() < s.late_update_share:
            delay = timedelta(seconds=rng.randint(*s.late_by))
            if i + 1 < len(script):
                delay = min(delay, (script[i + 1][1] - at) / 2)
            visible = at + delay
        events.append(OrderEvent(kind, at, visible, **extra))
    return events
