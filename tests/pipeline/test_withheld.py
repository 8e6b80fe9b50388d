"""Orders held for an address the platform withholds are fetched again on a backoff until it is released."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from pipeline import withheld
from pipeline.model import Address, EventKind, HoldReason, StockLevel
from pipeline.release import route_order
from pipeline.stock import StockLedger
from tests.factories import received
from tests.pipeline.helpers import US, order, seller

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
WITHHELD = Address(country="US", city="Austin", region="TX", postal_code="78701")  # no name, no street yet


@pytest.fixture
def held(store, redis_client, prefix):
    """One order routed while the platform withholds name and street: held ADDRESS_INCOMPLETE."""
    ledger, cfg = StockLedger(redis_client, prefix), seller()
    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG", on_hand=5, as_of=NOW)], NOW)
    first = order(1, [("MUG", 1)], address=WITHHELD)
    store.upsert("acme", [received(first)])
    route_order(store, ledger, cfg, first.key)
    assert store.get("acme", first.key).hold.reason is HoldReason.ADDRESS_INCOMPLETE
    return first, ledger, cfg


def test_a_new_hold_waits_its_first_interval_then_comes_due(store, held):
    first, _, _ = held
    assert withheld.due(store, "acme", NOW) == []  # scheduled now, due after FIRST_WAIT
    assert withheld.due(store, "acme", NOW + withheld.FIRST_WAIT - timedelta(seconds=1)) == []
    assert withheld.due(store, "acme", NOW + withheld.FIRST_WAIT) == [first.key]


def test_a_released_address_routes_the_order_and_ends_the_schedule(store, held):
    first, ledger, cfg = held
    withheld.due(store, "acme", NOW)
    later = NOW + withheld.FIRST_WAIT
    keys = withheld.due(store, "acme", later)

    def fetch(stored_order):  # the platform now answers with the whole address
        store.upsert("acme", [received(msgspec.structs.replace(order(1, [("MUG", 1)], version=1), ship_to=US))])

    counts = withheld.refetch(store, "acme", keys, later, fetch, lambda key: route_order(store, ledger, cfg, key))
    assert counts == {"released": 1, "still_held": 0, "failed": 0}
    assert store.get("acme", first.key).hold is None and store.get("acme", first.key).stage == "routed"
    notes = [e.detail for e in store.timeline("acme", first.key) if e.kind is EventKind.NOTE]
    assert notes == ["address re-fetch 1: the platform released the address"]
    assert withheld.due(store, "acme", later + timedelta(days=30)) == []


def test_a_still_withheld_address_backs_off_and_every_attempt_is_on_the_timeline(store, held):
    first, ledger, cfg = held
    withheld.due(store, "acme", NOW)
    at = NOW + withheld.FIRST_WAIT
    route = lambda key: route_order(store, ledger, cfg, key)  # noqa: E731
    assert withheld.refetch(store, "acme", withheld.due(store, "acme", at), at, lambda o: None, route) == {
        "released": 0, "still_held": 1, "failed": 0}
    # after one fruitless attempt the wait doubles
    assert withheld.due(store, "acme", at + withheld.wait_after(1) - timedelta(seconds=1)) == []
    at += withheld.wait_after(1)

    def broken(_order):
        raise ConnectionError("platform down")

    assert withheld.refetch(store, "acme", withheld.due(store, "acme", at), at, broken, route)["failed"] == 1
    notes = [e.detail for e in store.timeline("acme", first.key) if e.kind is EventKind.NOTE]
    assert notes[0].startswith("address re-fetch 1: still held: buyer name or street withheld") and "next in 0:30:00" in notes[0]
    assert notes[1] == "address re-fetch 2: the fetch failed (ConnectionError); trying again later; next in 1:00:00"


def test_it_gives_up_after_max_attempts_and_says_so(store, held, monkeypatch):
    first, ledger, cfg = held
    monkeypatch.setattr(withheld, "MAX_ATTEMPTS", 2)
    withheld.due(store, "acme", NOW)
    at = NOW
    for _ in range(2):
        at += timedelta(days=1)
        withheld.refetch(store, "acme", withheld.due(store, "acme", at), at, lambda o: None,
                         lambda key: route_order(store, ledger, cfg, key))
    assert withheld.due(store, "acme", at + timedelta(days=30)) == []
    assert "gave up after 2 attempts" in store.timeline("acme", first.key)[-1].detail
    assert store.get("acme", first.key).hold.reason is HoldReason.ADDRESS_INCOMPLETE  # still held for ops
