from __future__ import annotations

import multiprocessing
import random
from datetime import UTC, datetime

import msgspec
import redis

from pipeline.model import HoldReason, OrderStatus
from pipeline.store import OrderStore, Received, UpsertResult
from tests.factories import make_order, received

N = 10_000
BATCH = 500


def _upsert_all(store: OrderStore, items: list[Received]) -> list[UpsertResult]:
    results = []
    for start in range(0, len(items), BATCH):
        results.extend(store.upsert("acme", items[start:start + BATCH]))
    return results


def _timeline_lengths(store: OrderStore, keys: list[str]) -> int:
    pipe = store.redis.pipeline(transaction=False)
    for key in keys:
        pipe.llen(store._timeline_key("acme", key))
    return sum(pipe.execute())


def test_same_10000_orders_twice_second_pass_is_unchanged_and_writes_nothing(store):
    items = [received(make_order(n)) for n in range(N)]
    first = _upsert_all(store, items)
    assert first == [UpsertResult.NEW] * N
    events_after_first = _timeline_lengths(store, [i.key for i in items])
    assert events_after_first == N

    second = _upsert_all(store, items)
    assert second.count(UpsertResult.UNCHANGED) == N
    assert _timeline_lengths(store, [i.key for i in items]) == events_after_first
    assert sum(store.status_counts("acme").values()) == N


def test_an_older_version_never_replaces_a_newer_one(store):
    newer = received(make_order(1, version=5, status=OrderStatus.CANCELLED))
    older = received(make_order(1, version=2, status=OrderStatus.READY))
    assert store.upsert("acme", [newer]) == [UpsertResult.NEW]
    assert store.upsert("acme", [older]) == [UpsertResult.STALE]
    stored = store.get("acme", newer.key)
    assert stored.order.status == OrderStatus.CANCELLED
    assert stored.payload_hash == newer.payload_hash
    assert store.status_counts("acme") == {("amazon", "CANCELLED"): 1}


def test_a_newer_version_updates_status_index_and_timeline(store):
    store.upsert("acme", [received(make_order(1, version=1))])
    assert store.upsert("acme", [received(make_order(1, version=2, status=OrderStatus.SHIPPED))]) == [
        UpsertResult.UPDATED
    ]
    assert store.status_counts("acme") == {("amazon", "SHIPPED"): 1}
    kinds = [e.kind.value for e in store.timeline("acme", make_order(1).key)]
    assert kinds == ["received", "updated"]


def test_unmappable_payload_is_kept_raw_and_held_then_released_by_a_valid_one(store):
    bad = Received(key="amazon:shop-1:ORD-0000009", platform="amazon", shop_id="shop-1", raw=b'{"broken":1}',
                   payload_hash="bad", updated_at=None, error="order.OrderTotal.Amount: not a decimal")
    assert store.upsert("acme", [bad]) == [UpsertResult.NEW]
    stored = store.get("acme", bad.key)
    assert stored.order is None and stored.raw == b'{"broken":1}'
    assert stored.hold.reason == HoldReason.INVALID_PAYLOAD
    assert "OrderTotal.Amount" in stored.hold.detail
    assert store.holds("acme", HoldReason.INVALID_PAYLOAD)[HoldReason.INVALID_PAYLOAD] == [bad.key]

    good = received(make_order(9, version=3))
    assert store.upsert("acme", [good]) == [UpsertResult.UPDATED]
    stored = store.get("acme", bad.key)
    assert stored.hold is None and stored.order is not None
    assert store.holds("acme", HoldReason.INVALID_PAYLOAD)[HoldReason.INVALID_PAYLOAD] == []
    assert store.status_counts("acme") == {("amazon", "READY"): 1}


def test_batch_upsert_costs_one_round_trip(redis_url, prefix):
    class CountingRedis(redis.Redis):
        sent: list[str] = []

        def execute_command(self, *args, **options):
            self.sent.append(str(args[0]))
            return super().execute_command(*args, **options)

    client = CountingRedis.from_url(redis_url)
    store = OrderStore(client, prefix)
    store.upsert("acme", [received(make_order(0))])  # loads the script once
    CountingRedis.sent.clear()
    results = store.upsert("acme", [received(make_order(n)) for n in range(1, 1001)])
    assert results == [UpsertResult.NEW] * 1000
    assert CountingRedis.sent == ["EVALSHA"]


def test_holds_and_release_move_the_index(store):
    item = received(make_order(3))
    store.upsert("acme", [item])
    store.hold("acme", item.key, HoldReason.UNKNOWN_SKU, "platform SKU SKU-3 is not mapped")
    store.hold("acme", item.key, HoldReason.INSUFFICIENT_STOCK, "MUG-01 needs 2, 0 free")
    holds = store.holds("acme")
    assert holds[HoldReason.UNKNOWN_SKU] == [] and holds[HoldReason.INSUFFICIENT_STOCK] == [item.key]
    assert store.release("acme", item.key, "stock arrived") == HoldReason.INSUFFICIENT_STOCK
    assert store.get("acme", item.key).hold is None
    assert [e.kind.value for e in store.timeline("acme", item.key)] == ["received", "held", "held", "released"]


def test_cursor_moves_only_when_told(store):
    assert store.cursor("acme", "shop-1") is None
    moment = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
    store.set_cursor("acme", "shop-1", moment)
    store.upsert("acme", [received(make_order(1))])
    assert store.cursor("acme", "shop-1") == moment
    assert store.cursor("acme", "shop-1", "returns") is None


def test_sellers_never_collide(store):
    store.upsert("acme", [received(make_order(1))])
    store.upsert("globex", [received(make_order(1, seller="globex", status=OrderStatus.SHIPPED))])
    assert store.get("acme", make_order(1).key).order.seller == "acme"
    assert store.get("globex", make_order(1).key).order.seller == "globex"
    assert store.sellers() == ["acme", "globex"]


def _racer(url: str, prefix: str, seed: int, count: int) -> None:
    store = OrderStore(redis.Redis.from_url(url), prefix)
    rng = random.Random(seed)
    work = [(n, v) for n in range(count) for v in range(4)]
    rng.shuffle(work)
    for start in range(0, len(work), 200):
        chunk = work[start:start + 200]
        statuses = [OrderStatus.READY, OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.DELIVERED]
        store.upsert("acme", [received(make_order(n, version=v, status=statuses[v])) for n, v in chunk])


def test_two_processes_upserting_the_same_orders_end_consistent(redis_url, prefix, store):
    count = 1000
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_racer, args=(redis_url, prefix, seed, count)) for seed in (1, 2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    counts = store.status_counts("acme")
    assert counts == {("amazon", "DELIVERED"): count}  # every order in exactly one index, its newest state
    for n in range(0, count, 37):
        stored = store.get("acme", make_order(n).key)
        newest = received(make_order(n, version=3, status=OrderStatus.DELIVERED))
        assert stored.order == newest.order
        assert stored.payload_hash == newest.payload_hash
        assert msgspec.json.decode(stored.raw)["id"] == newest.order.external_id
        events = store.timeline("acme", newest.key)
        assert events[0].kind.value == "received"
        assert sum(1 for e in events if e.kind.value == "received") == 1
