"""Routing a batch (pipeline/route_batch.py) decides and reserves exactly as routing each order alone,
in a handful of round trips: same outcomes, same allocations, same timelines, never oversold."""

from __future__ import annotations

import threading
import uuid

import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import keys
from pipeline.locks import leases
from pipeline.model import EventKind, HoldReason
from pipeline.release import Outcome, route_order
from pipeline.route_batch import route_batch
from pipeline.stages import Stage
from pipeline.stock import Allocation, StockLedger
from pipeline.stock_batch import reserve_many
from pipeline.store import OrderStore
from tests.factories import received
from tests.pipeline.helpers import order, seller
from tests.pipeline.test_release import SKUS, assert_never_oversold, stock


def _stored(store: OrderStore, orders) -> list[str]:
    store.upsert("acme", [received(o) for o in orders])
    return [o.key for o in orders]


def _clean(client: redis.Redis, prefix: str) -> None:
    for k in client.scan_iter(match=f"{prefix}*", count=1000):
        client.delete(k)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    inventory=st.dictionaries(st.tuples(st.sampled_from(["east", "west"]), st.sampled_from(SKUS)),
                              st.integers(0, 6), min_size=1),
    orders=st.lists(st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 3)), min_size=1, max_size=3,
                             unique_by=lambda x: x[0]), min_size=1, max_size=25),
    split=st.booleans(),
)
def test_a_batch_decides_as_one_order_at_a_time_does(redis_url, inventory, orders, split):
    client = redis.Redis.from_url(redis_url)
    one, many = f"one-{uuid.uuid4().hex[:8]}", f"many-{uuid.uuid4().hex[:8]}"
    cfg = seller(split=split)
    try:
        results = {}
        for prefix in (one, many):
            store, ledger = OrderStore(client, prefix), StockLedger(client, prefix)
            stock(ledger, inventory)
            order_keys = _stored(store, [order(n, lines) for n, lines in enumerate(orders)])
            if prefix == one:
                results[prefix] = {k: route_order(store, ledger, cfg, k) for k in order_keys}
            else:
                results[prefix] = route_batch(store, ledger, cfg, order_keys)
            assert_never_oversold(ledger, inventory)
        assert {k: (r.outcome, r.allocations, r.detail) for k, r in results[one].items()} == \
               {k: (r.outcome, r.allocations, r.detail) for k, r in results[many].items()}
        for key in results[one]:
            a, b = OrderStore(client, one), OrderStore(client, many)
            assert [(e.kind, e.detail) for e in a.timeline("acme", key)] == \
                   [(e.kind, e.detail) for e in b.timeline("acme", key)]
            assert (a.get("acme", key).stage, a.get("acme", key).hold) == \
                   (b.get("acme", key).stage, b.get("acme", key).hold)
        assert OrderStore(client, one).event_counts("acme") == OrderStore(client, many).event_counts("acme")
    finally:
        _clean(client, one)
        _clean(client, many)


def test_a_batch_routes_again_harmlessly_and_skips_orders_another_router_holds(store, redis_client, prefix):
    ledger, cfg = StockLedger(redis_client, prefix), seller()
    stock(ledger, {("east", "MUG"): 10})
    order_keys = _stored(store, [order(n, [("MUG", 1)]) for n in range(4)])
    busy = keys.route_lock(prefix, "acme", order_keys[3])
    with leases(redis_client, [busy], 30) as held:
        assert held.held == {busy}
        first = route_batch(store, ledger, cfg, order_keys + order_keys[:1])
    assert [first[k].outcome for k in order_keys] == [Outcome.ROUTED] * 3 + [Outcome.BUSY]
    assert not redis_client.exists(busy)  # given back
    again = route_batch(store, ledger, cfg, order_keys)
    assert [again[k].outcome for k in order_keys] == [Outcome.ALREADY_ROUTED] * 3 + [Outcome.ROUTED]
    assert ledger.totals("acme", "east")["MUG"]["reserved"] == 4
    assert store.get("acme", order_keys[0]).stage == Stage.ROUTED
    assert [e.kind for e in store.timeline("acme", order_keys[0])] == [EventKind.RECEIVED, EventKind.ROUTED]
    assert store.event_counts("acme")["routed"] == 4


def test_a_batch_holds_what_stock_cannot_cover_with_its_reason(store, redis_client, prefix):
    ledger, cfg = StockLedger(redis_client, prefix), seller()
    stock(ledger, {("east", "MUG"): 2, ("west", "MUG"): 0})
    order_keys = _stored(store, [order(n, [("MUG", 1)]) for n in range(3)])
    results = route_batch(store, ledger, cfg, order_keys)
    assert [results[k].outcome for k in order_keys] == [Outcome.ROUTED, Outcome.ROUTED, Outcome.HELD]
    held = store.get("acme", order_keys[2])
    assert held.hold.reason is HoldReason.INSUFFICIENT_STOCK and held.stage == Stage.HELD
    assert ledger.totals("acme", "east")["MUG"]["reserved"] == 2


def test_the_batch_reservation_is_all_or_nothing_per_order_and_keeps_an_allocation(redis_client, prefix):
    ledger = StockLedger(redis_client, prefix)
    stock(ledger, {("east", "MUG"): 3, ("east", "BOWL"): 1})
    mug2 = [Allocation("east", (("MUG", 2),))]
    both = [Allocation("east", (("MUG", 1), ("BOWL", 2)))]
    results = reserve_many(ledger, "acme", [("a", mug2), ("b", both), ("c", mug2), ("a", mug2)])
    assert [(bool(r[0]), bool(r[1]), r[2]) for r in results] == [
        (True, False, True), (False, True, False), (False, True, False), (True, False, False)]
    assert ledger.totals("acme", "east")["MUG"]["reserved"] == 2
    assert ledger.totals("acme", "east")["BOWL"]["reserved"] == 0
    assert ledger.allocation("acme", "a") == mug2 and ledger.allocation("acme", "b") == []


def test_two_batches_racing_over_the_same_orders_reserve_each_once(redis_url, redis_client, prefix):
    ledger, cfg = StockLedger(redis_client, prefix), seller()
    stock(ledger, {("east", "MUG"): 30, ("west", "MUG"): 30})
    order_keys = _stored(OrderStore(redis_client, prefix), [order(n, [("MUG", 1)]) for n in range(60)])
    outcomes: list[Outcome] = []

    def router(chunk: list[str]) -> None:
        own = redis.Redis.from_url(redis_url)
        for start in range(0, len(chunk), 7):
            outcomes.extend(r.outcome for r in route_batch(OrderStore(own, prefix), StockLedger(own, prefix), cfg,
                                                           chunk[start:start + 7]).values())

    threads = [threading.Thread(target=router, args=(order_keys[i:] + order_keys[:i],)) for i in (0, 20, 40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count(Outcome.ROUTED) == 60
    assert ledger.totals("acme", "east")["MUG"]["reserved"] + ledger.totals("acme", "west")["MUG"]["reserved"] == 60
    assert ledger.totals("acme", "east")["MUG"]["reserved"] == 30  # priority first


def test_the_bulk_view_is_the_view(redis_client, prefix):
    ledger = StockLedger(redis_client, prefix)
    stock(ledger, {("east", "MUG"): 3, ("west", "BOWL"): 2})
    ledger.reserve("acme", "k", [Allocation("east", (("MUG", 1),))])
    assert ledger.view_bulk("acme", ["east", "west"], ["MUG", "BOWL", "MUG"]) == {
        ("east", "MUG"): 2, ("east", "BOWL"): 0, ("west", "MUG"): 0, ("west", "BOWL"): 2}
    assert ledger.view("acme", []) == {}


def test_an_update_stored_while_the_batch_holds_the_order_is_routed_again(store, redis_client, prefix, monkeypatch):
    """A sync storing a cancellation meanwhile finds the lease held and gives way; the batch sees the change
    when it gives the leases back, and routes the order again: the cancellation is not lost."""
    from msgspec.structs import replace

    from pipeline import route_batch as module
    from pipeline.model import OrderStatus

    ledger, cfg = StockLedger(redis_client, prefix), seller()
    stock(ledger, {("east", "MUG"): 5})
    first = order(1, [("MUG", 1)])
    (key,) = _stored(store, [first])
    real, calls = module.reserve_many, []

    def cancel_meanwhile(*args, **kwargs):
        if not calls:
            store.upsert("acme", [received(replace(first, status=OrderStatus.CANCELLED,
                                                   updated_at=first.updated_at.replace(hour=23)))])
            assert route_order(store, ledger, cfg, key).outcome is Outcome.BUSY  # the sync's own routing gives way
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "reserve_many", cancel_meanwhile)
    assert route_batch(store, ledger, cfg, [key])[key].outcome is Outcome.CANCELLED
    assert ledger.allocation("acme", key) == []
    assert ledger.totals("acme", "east")["MUG"]["reserved"] == 0
