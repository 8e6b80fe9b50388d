"""Three processes syncing one shop at once stay within the platform's own limits.

The emulator enforces each operation's published token bucket on a time-scaled clock; the client
limits are the same buckets scaled by the same factor, shared through Redis. The emulator's own
counters must show no throttled response at all.
"""

from __future__ import annotations

import multiprocessing
from datetime import timedelta

import pytest

from connectors.ratelimit import RateLimiter
from connectors.registry import PLATFORMS
from pipeline.errors import ListingMoved
from pipeline.ports import Limit, ShopRef
from pipeline.store import OrderStore
from pipeline.sync import sync_orders
from sandbox import SandboxClock
from tests.contract.harness import HARNESSES

SCALE = 600.0  # ten virtual minutes per real second: Amazon's 1 request/minute becomes 10/s
HEADROOM = 0.8
"""The limiter's margin in this test. The product's 0.95 leaves Amazon's 1/minute 3 s of slack per
call; scaled 600x that is 5 ms, less than loopback and scheduling jitter on a busy 2-core machine
(one throttled call in about one run in three). 0.8 gives back the slack real time would give."""


def _sync_in_child(platform: str, url: str, redis_url: str, prefix: str, limits: dict) -> int:
    import redis

    harness = HARNESSES[platform]

    class _Emu:  # the child only needs the URL to wire a shop
        pass

    emu = _Emu()
    emu.url = url
    shop, secrets = harness.shop(emu, limits={op: Limit(*v) for op, v in limits.items()})
    client_redis = redis.Redis.from_url(redis_url)
    connector = PLATFORMS[platform]
    client = connector.client(shop, secrets, RateLimiter(client_redis, prefix, max_wait=60, headroom=HEADROOM))
    store = OrderStore(client_redis, prefix)
    while True:  # as the sync task does: a listing that kept moving is retried, in a shorter slice
        try:
            report = sync_orders(store, connector, client, ShopRef("acme", platform, shop.shop_id),
                                 lookback=timedelta(days=3), slice_length=timedelta(days=3))
        except ListingMoved:
            continue
        return report.seen


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_three_processes_share_one_budget_and_are_never_throttled(platform, redis_url, prefix):
    harness = HARNESSES[platform]
    limits = harness.platform_limits
    clock = SandboxClock(factor=SCALE)  # starts at the real now, so a real-time client is in step
    with harness.emulator(orders=300, seed=3, clock=clock, limits=limits) as emulator:
        client_limits = {op: (lim.rate * SCALE, lim.burst) for op, lim in limits.items()}
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(3) as pool:
            seen = pool.starmap(_sync_in_child, [(platform, emulator.url, redis_url, prefix, client_limits)] * 3)
        counters = emulator.counters.snapshot()
    assert all(n > 0 for n in seen)
    calls = sum(c.get("calls", 0) for c in counters.values())
    throttled = {op: c.get("throttled", 0) for op, c in counters.items() if c.get("throttled")}
    assert calls > 3 * 3  # the three processes really called the platform
    assert throttled == {}
