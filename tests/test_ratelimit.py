from __future__ import annotations

import threading
import time

import pytest
import redis

from connectors.ratelimit import RateLimiter
from pipeline import keys
from pipeline.errors import RateLimited
from pipeline.ports import Limit


def test_many_threads_with_their_own_connections_share_one_bucket(redis_url, prefix):
    limit = Limit(rate=20, burst=5)
    granted: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + 1.5

    def worker() -> None:
        limiter = RateLimiter(redis.Redis.from_url(redis_url), prefix, max_wait=5)
        while time.monotonic() < stop_at:
            limiter.acquire("amazon", "A1", "getOrders", limit)
            with lock:
                granted.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    span = max(granted) - min(granted)
    # burst + rate x headroom x span, with one token of slack for refill rounding
    assert len(granted) <= 5 + 20 * 0.95 * span + 1
    assert len(granted) >= 5 + 20 * 0.95 * span - 2  # and the budget is really used, not starved


def test_buckets_are_separate_per_account_and_operation(redis_client, prefix):
    limiter = RateLimiter(redis_client, prefix)
    limit = Limit(rate=0.001, burst=1)
    assert limiter.try_take("tiktok", "shop-1", "searchOrders", limit) == 0
    assert limiter.try_take("tiktok", "shop-1", "searchOrders", limit) > 0
    assert limiter.try_take("tiktok", "shop-2", "searchOrders", limit) == 0
    assert limiter.try_take("tiktok", "shop-1", "getOrderDetail", limit) == 0


def test_a_long_wait_raises_rate_limited_instead_of_holding_the_worker(redis_client, prefix):
    limiter = RateLimiter(redis_client, prefix, max_wait=0.5)
    limit = Limit(rate=0.01, burst=1)
    limiter.acquire("amazon", "A1", "getOrders", limit)
    with pytest.raises(RateLimited) as err:
        limiter.acquire("amazon", "A1", "getOrders", limit)
    assert err.value.retry_after > 50


def test_block_after_a_429_stops_every_process_until_it_passes(redis_client, prefix):
    limiter = RateLimiter(redis_client, prefix)
    other = RateLimiter(redis_client, prefix)
    limit = Limit(rate=100, burst=100)
    limiter.block("amazon", "A1", "getOrderItems", 0.3)
    wait = other.try_take("amazon", "A1", "getOrderItems", limit)
    assert 0.2 < wait <= 0.3
    time.sleep(0.35)
    assert other.try_take("amazon", "A1", "getOrderItems", limit) == 0


def test_a_roomy_bucket_is_taken_from_a_few_tokens_at_a_time_and_spent_within_its_window(redis_client, prefix):
    limiter = RateLimiter(redis_client, prefix)
    script, scripts = limiter._take, []
    limiter._take = lambda **kw: scripts.append(1) or script(**kw)
    limit = Limit(rate=1000, burst=1000)  # a margin of 50 tokens: up to 25 taken ahead, kept 25 ms at most
    assert all(limiter.try_take("fourpx", "k", "create", limit) == 0 for _ in range(10))
    assert len(scripts) == 1  # one script call for ten
    tokens = float(redis_client.hget(keys.rate_bucket(prefix, "fourpx", "k", "create"), "tokens"))
    assert 950 - 26 - 1 <= tokens <= 950 - 26 + 1  # the ten and the rest taken ahead are gone from the shared bucket
    assert limiter.call_counts()["fourpx:create"] == 10  # calls made, not tokens taken ahead
    time.sleep(0.03)  # past the window: what is left ahead is dropped, the next call goes to Redis
    limiter.try_take("fourpx", "k", "create", limit)
    assert len(scripts) == 2


def test_a_small_bucket_takes_one_token_per_call(redis_client, prefix):
    limiter = RateLimiter(redis_client, prefix)
    limit = Limit(rate=20, burst=20)  # a margin of one token: nothing taken ahead
    for _ in range(3):
        assert limiter.try_take("amazon", "A1", "getOrders", limit) == 0
    assert limiter.call_counts()["amazon:getOrders"] == 3
