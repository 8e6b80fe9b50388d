"""Seeded, platform-neutral order generator: the same arguments always give the same order book.

Each order gets a fixed script of events (placed, paid, address changed, shipped in one or two
parcels, cancelled before or after release) spread over (sandbox) time. ~3% of the updates are late,
visible only minutes after their update time, which is what makes an incremental sync need an overlap
window. The order types live in ``sandbox.core.orders``; they are re-exported here because tests and
benchmarks import them together with the generator.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from sandbox.core.orders import (
    Address,
    EventKind,
    GeneratedOrder,
    OrderEvent,
    OrderLine,
    OrderState,
    Shipment,
    Status,
    Unit,
)
from sandbox.core.world import ADDRESS_BOOKS, CATALOGUE, MARKETS, SECOND_LINES, quantize

__all__ = [
    "Address", "EventKind", "GeneratedOrder", "GeneratorSettings", "OrderEvent", "OrderLine", "OrderState",
    "Shipment", "Status", "Unit", "generate_orders", "random_address", "stable_digits",
]


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
