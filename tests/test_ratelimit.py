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
    # 950/s: 23 taken ahead (what refills in the 25 ms hold window), the burst cut by 950 x (50 + 25) ms = 72
    limit = Limit(rate=1000, burst=1000)
    assert all(limiter.try_take("fourpx", "k", "create", limit) == 0 for _ in range(10))
    assert len(scripts) == 1  # one script call for ten
    tokens = float(redis_client.hget(keys.rate_bucket(prefix, "fourpx", "k", "create"), "tokens"))
    assert 928 - 24 - 1 <= tokens <= 928 - 24 + 1  # the ten and the rest taken ahead are gone from the shared bucket
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


def _granted_at_once(limiter: RateLimiter, limit: Limit, tries: int) -> int:
    return sum(limiter.try_take("tiktok", "shop-1", "searchOrders", limit) == 0 for _ in range(tries))


def test_a_slow_bucket_keeps_one_token_of_its_burst_not_a_share(redis_client, prefix):
    # TikTok in bench.budget (50 calls/s and 50 of burst, k = 0.01): a token refills in 2.1 s, far more
    # than any lag between a token and its call, so one token is margin enough (5% kept three: 47)
    limiter = RateLimiter(redis_client, prefix)
    assert _granted_at_once(limiter, Limit(rate=0.5, burst=50), 60) == 49


def test_a_fast_bucket_keeps_what_refills_while_its_calls_lag_behind_their_tokens(redis_client, prefix):
    # The burst margin is rate x lag: 0.95/s x 5 s of assumed lag = 4.75, so 5 tokens of 30 are kept
    limiter = RateLimiter(redis_client, prefix, skew=5.0)
    assert _granted_at_once(limiter, Limit(rate=1, burst=30), 40) == 25
    # and the default 50 ms at the sandbox-scaled rate of Amazon's item calls (47.5/s x 50 ms = 2.4): 27 of
    # 30, plus what refilled while the calls were made
    started = time.monotonic()
    granted = _granted_at_once(RateLimiter(redis_client, prefix + "-b"), Limit(rate=50, burst=30), 30)
    assert 27 <= granted <= 27 + 47.5 * (time.monotonic() - started)
