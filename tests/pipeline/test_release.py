"""Route-and-reserve end to end on a real Redis: concurrency, idempotence, holds and replay."""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from datetime import UTC, datetime

import msgspec
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.schema import SkuMapConfig
from pipeline.model import FulfilledBy, HoldReason, OrderStatus, StockLevel
from pipeline.release import Outcome, replay_holds, route_order
from pipeline.stock import StockLedger
from pipeline.store import OrderStore
from tests.factories import received
from tests.pipeline.helpers import order, seller

T0 = datetime(2026, 3, 1, tzinfo=UTC)
SKUS = ["MUG", "BOWL", "TRAY"]


def stock(ledger: StockLedger, levels: dict[tuple[str, str], int]) -> None:
    for wh in {w for w, _ in levels}:
        ledger.apply_snapshot("acme", wh, [StockLevel(warehouse=wh, seller_sku=s, on_hand=n, as_of=T0)
                                           for (w, s), n in levels.items() if w == wh], T0)


def assert_never_oversold(ledger: StockLedger, levels: dict[tuple[str, str], int]) -> None:
    for wh in {w for w, _ in levels}:
        for sku, row in ledger.totals("acme", wh).items():
            assert row["reserved"] + row["shipped"] <= row["on_hand"], (wh, sku, row)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    inventory=st.dictionaries(st.tuples(st.sampled_from(["east", "west"]), st.sampled_from(SKUS)),
                              st.integers(0, 6), min_size=1),
    orders=st.lists(st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 3)), min_size=1, max_size=3,
                             unique_by=lambda x: x[0]), min_size=1, max_size=40),
    split=st.booleans(),
)
def test_concurrent_routers_never_reserve_more_than_on_hand(redis_url, inventory, orders, split):
    import uuid

    prefix = f"prop-{uuid.uuid4().hex[:8]}"
    client = redis.Redis.from_url(redis_url)
    store, ledger, cfg = OrderStore(client, prefix), StockLedger(client, prefix), seller(split=split)
    stock(ledger, inventory)
    keys = []
    for n, lines in enumerate(orders):
        o = order(n, lines)
        store.upsert("acme", [received(o)])
        keys.append(o.key)
    outcomes: dict[str, Outcome] = {}

    def router(chunk: list[str]) -> None:
        own = redis.Redis.from_url(redis_url)
        for key in chunk:
            outcomes[key] = route_order(OrderStore(own, prefix), StockLedger(own, prefix), cfg, key).outcome

    threads = [threading.Thread(target=router, args=(keys[i::3] + keys,)) for i in range(3)]  # overlapping work
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert_never_oversold(ledger, inventory)
        for key in keys:
            stored = store.get("acme", key)
            routed = bool(ledger.allocation("acme", key))
            assert routed != (stored.hold is not None), key  # exactly one of: routed, held with a reason
            if stored.hold:
                assert stored.hold.detail
    finally:
        for k in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(k)


def _route_all(url: str, prefix: str, count: int) -> Counter:
    client = redis.Redis.from_url(url)
    store, ledger, cfg = OrderStore(client, prefix), StockLedger(client, prefix), seller()
    return Counter(route_order(store, ledger, cfg, order(n, [("MUG", 1)]).key).outcome.value for n in range(count))


def test_two_processes_routing_the_same_2000_orders_make_one_allocation_each(redis_url, redis_client, prefix):
    count = 2000
    store, ledger = OrderStore(redis_client, prefix), StockLedger(redis_client, prefix)
    stock(ledger, {("east", "MUG"): 1500, ("west", "MUG"): 1000})
    for start in range(0, count, 500):
        store.upsert("acme", [received(order(n, [("MUG", 1)])) for n in range(start, start + 500)])
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        results = pool.starmap(_route_all, [(redis_url, prefix, count)] * 2)
    assert results[0]["routed"] + results[1]["routed"] == count  # each order routed by exactly one process
    others = results[0] + results[1]
    assert others["already_routed"] + others["busy"] == count  # the other process found it done or in hand
    allocated = Counter()
    for n in range(count):
        (allocation,) = ledger.allocation("acme", order(n, [("MUG", 1)]).key)
        allocated[allocation.warehouse] += dict(allocation.lines)["MUG"]
    assert allocated == {"east": 1500, "west": 500}  # priority first, then the rest
    assert ledger.totals("acme", "east")["MUG"]["reserved"] == 1500
    assert ledger.totals("acme", "west")["MUG"]["reserved"] == 500


def test_platform_pending_and_cancelled_orders(store, redis_client, prefix):
    ledger, cfg = StockLedger(redis_client, prefix), seller()
    stock(ledger, {("east", "MUG"): 5})
    afn = msgspec.structs.replace(order(1, [("MUG", 1)]), fulfilled_by=FulfilledBy.PLATFORM)
    pending = order(2, [("MUG", 1)], status=OrderStatus.PENDING)
    ready = order(3, [("MUG", 2)])
    store.upsert("acme", [received(o) for o in (afn, pending, ready)])
    assert route_order(store, ledger, cfg, afn.key).outcome is Outcome.IGNORED
    assert store.get("acme", afn.key).stage == "ignored" and not ledger.allocation("acme", afn.key)
    assert route_order(store, ledger, cfg, pending.key).outcome is Outcome.WAITING
    assert route_order(store, ledger, cfg, ready.key).outcome is Outcome.ROUTED
    assert ledger.view("acme", [("east", "MUG")])[("east", "MUG")] == 3
    cancelled = msgspec.structs.replace(ready, status=OrderStatus.CANCELLED, updated_at=ready.updated_at.replace(hour=13))
    store.upsert("acme", [received(cancelled)])
    assert route_order(store, ledger, cfg, ready.key).outcome is Outcome.CANCELLED
    assert ledger.view("acme", [("east", "MUG")])[("east", "MUG")] == 5


def test_unknown_sku_is_held_then_replay_routes_it_after_the_mapping_is_added(store, redis_client, prefix):
    ledger = StockLedger(redis_client, prefix)
    stock(ledger, {("east", "MUG-01"): 3})
    strict = seller(default="none")
    o = msgspec.structs.replace(order(1, [("AMZ-MUG-FBM", 1)]),
                                lines=tuple(msgspec.structs.replace(line, seller_sku=None) for line in order(1, [("AMZ-MUG-FBM", 1)]).lines))
    store.upsert("acme", [received(o)])
    assert route_order(store, ledger, strict, o.key).outcome is Outcome.HELD
    hold = store.get("acme", o.key).hold
    assert hold.reason is HoldReason.UNKNOWN_SKU and "AMZ-MUG-FBM" in hold.detail

    fixed = msgspec.structs.replace(strict, sku_map=SkuMapConfig(default="none", skus={"AMZ-MUG-FBM": "MUG-01"}))
    report = replay_holds(store, ledger, fixed, reason=HoldReason.UNKNOWN_SKU)
    assert report == {"UNKNOWN_SKU": Counter({"routed": 1})}
    assert store.get("acme", o.key).hold is None and store.get("acme", o.key).stage == "routed"
    assert ledger.allocation("acme", o.key)[0].lines == (("MUG-01", 1),)
    assert store.holds("acme", HoldReason.UNKNOWN_SKU)[HoldReason.UNKNOWN_SKU] == []


def test_a_temu_pending_order_is_not_released_until_it_reaches_un_shipping(store, redis_client, prefix):
    """TEMU: a PENDING (1) order may still change, so it waits; the same order at UN_SHIPPING (2) goes."""
    from connectors.temu.mapping import map_order
    from pipeline.ports import ShopRef
    from tests.connectors.fixtures import bundle

    ref = ShopRef("acme", "temu", "acme-temu-us")
    ready = map_order(bundle("temu", "usd_local_ready"), ref)
    pending = msgspec.structs.replace(map_order(bundle("temu", "pending_no_address"), ref), key=ready.key,
                                      external_id=ready.external_id, updated_at=ready.updated_at.replace(year=2025))
    assert pending.status is OrderStatus.PENDING
    ledger, cfg = StockLedger(redis_client, prefix), seller()
    stock(ledger, {("east", line.seller_sku): 50 for line in ready.lines})
    store.upsert("acme", [received(pending)])
    assert route_order(store, ledger, cfg, ready.key).outcome is Outcome.WAITING
    assert ledger.allocation("acme", ready.key) == []
    store.upsert("acme", [received(ready)])
    assert route_order(store, ledger, cfg, ready.key).outcome is Outcome.ROUTED
