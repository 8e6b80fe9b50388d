"""The order generator: determinism, realistic spread, lifecycle variety and late updates."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

from sandbox.core.generator import EventKind, Status, generate_orders
from sandbox.core.world import CATALOGUE, MARKETS
from tests.sandbox.conftest import START

COUNTRIES = ("US", "GB", "DE", "FR", "JP", "MX")


def _snapshot(orders):
    return [(o.serial, o.country, o.created_at, o.lines, o.address, o.events) for o in orders]


def test_same_seed_same_orders_and_another_seed_other_orders():
    one = generate_orders(11, 200, START, COUNTRIES)
    assert _snapshot(one) == _snapshot(generate_orders(11, 200, START, COUNTRIES))
    other = generate_orders(12, 200, START, COUNTRIES)
    assert {o.serial for o in one}.isdisjoint({o.serial for o in other})
    shifted = generate_orders(11, 200, START + timedelta(days=1), COUNTRIES)
    assert [o.created_at - timedelta(days=1) for o in shifted] == [o.created_at for o in one]


def test_catalogue_and_markets_have_the_promised_shape():
    assert len(CATALOGUE) == 40 and len({i.sku for i in CATALOGUE}) == 40
    assert any(i.oversize for i in CATALOGUE)
    assert {m.currency for m in MARKETS.values()} == {"USD", "GBP", "EUR", "JPY", "MXN"}


def test_orders_spread_over_countries_currencies_and_fulfilment():
    orders = generate_orders(5, 1000, START, COUNTRIES)
    assert set(Counter(o.country for o in orders)) == set(COUNTRIES)
    for order in orders:
        assert order.currency == MARKETS[order.country].currency
        if order.currency == "JPY":
            assert all(line.unit_price == line.unit_price.to_integral_value() for line in order.lines)
    platform_share = sum(o.platform_fulfilled for o in orders) / len(orders)
    assert 0.06 < platform_share < 0.14
    assert any(len(o.lines) > 1 for o in orders) and any(line.quantity > 1 for o in orders for line in o.lines)
    assert len({o.serial for o in orders}) == 1000
    jp = next(o for o in orders if o.country == "JP")
    assert "-" in jp.address.postal_code and jp.address.region.endswith(("都", "府", "県"))
    assert any(o.created_at > START for o in orders), "some orders are still in the future"


def test_lifecycle_reaches_every_status_and_both_kinds_of_cancellation():
    orders = generate_orders(5, 1000, START, COUNTRIES)
    far_future = START + timedelta(days=30)
    settled = Counter(o.state(far_future).status for o in orders)
    assert set(settled) == set(Status) - {Status.PENDING}, "payment or cancellation ends every Pending"
    assert any(o.state(START).status is Status.PENDING for o in orders if o.visible(START))
    cancels = [o for o in orders if o.state(far_future).status is Status.CANCELLED]
    before_release = [o for o in cancels if not any(e.kind is EventKind.PAID for e in o.events)]
    assert before_release and len(before_release) < len(cancels), "cancelled before and after release"
    changed = [o for o in orders if o.state(far_future).address_changed]
    assert changed and all(o.state(far_future).address != o.address for o in changed)


def test_events_become_visible_as_the_clock_passes_them():
    order = next(o for o in generate_orders(5, 200, START, COUNTRIES)
                 if any(e.kind is EventKind.SHIPPED for e in o.events))
    shipped_at = next(e.at for e in order.events if e.kind is EventKind.SHIPPED)
    assert order.state(shipped_at - timedelta(seconds=1)).status is Status.READY
    assert order.state(shipped_at + timedelta(hours=1)).status in (Status.SHIPPED, Status.PARTIALLY_SHIPPED)
    assert not order.visible(order.created_at - timedelta(seconds=1))


def test_about_three_percent_of_updates_are_late():
    orders = generate_orders(5, 2000, START, COUNTRIES)
    updates = [e for o in orders for e in o.events if e.kind is not EventKind.PLACED]
    late = [e for e in updates if e.visible_at > e.at]
    assert 0.015 < len(late) / len(updates) < 0.05
    order, event = next((o, e) for o in orders for e in o.events if e.visible_at - e.at > timedelta(minutes=2))
    # Just before it shows up the order still has its old update time; once visible, its update time
    # jumps to a moment that is already in the past: the case an overlap window exists for.
    before = order.state(event.visible_at - timedelta(seconds=1))
    after = order.state(event.visible_at)
    assert before.updated_at < event.at
    assert after.updated_at == event.at < event.visible_at


def test_a_reused_fold_always_equals_a_fresh_one():
    """state() keeps its last fold; whatever the clock does and however the events change, what it
    answers must be what folding from scratch answers."""
    orders = generate_orders(7, 300, START, COUNTRIES)
    moments = sorted({e.visible_at + timedelta(seconds=d) for o in orders for e in o.events for d in (-1, 0)})
    walk = moments[::7] + moments[::-11] + moments[::5]  # forwards, backwards, forwards again
    for now in walk:
        for order in orders:
            assert order.state(now) == order._fold(now)
    order = next(o for o in orders if o.state(walk[-1]).status is Status.READY)
    now = walk[-1]
    order.add_event(replace(order.events[-1], kind=EventKind.CANCELLED, at=now, visible_at=now,
                            initiator="SELLER", shipment=None, address=None))
    assert order.state(now).status is Status.CANCELLED == order._fold(now).status
    order.events = [e for e in order.events if e.kind is not EventKind.CANCELLED]
    assert order.state(now) == order._fold(now) and order.state(now).status is Status.READY
