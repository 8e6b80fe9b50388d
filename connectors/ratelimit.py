"""One token bucket in Redis per (platform, account, operation), shared by every process.

Celery's own `rate_limit` is per worker instance, so N workers would spend N times a platform's
budget. Here refill and take happen in one Lua call on Redis's clock, so any number of processes
together stay within the limit; a 429 that slips through blocks the bucket for everyone.

A bucket with room to spare (a burst of thousands, as warehouse APIs allow) is taken from a few
tokens at a time, kept in the process and spent within a window short enough that the platform's
own bucket never sees more than it allows (see `_Reservoir`): one Lua call per call was a third of
the pipeline's Redis commands. A small bucket (a burst of tens, most platform limits) is untouched. The bucket
and the call counters are pipeline/keys.py families (connectors may import the pipeline).

Two margins, for two different things (see `_plan`):
- the rate: our bucket refills at `headroom` (0.95) of the platform's, so over any long stretch the
  platform's bucket fills faster than we draw on it and what we owe it never accumulates;
- the burst: our bucket holds the platform's burst less what calls can run ahead of their tokens in
  time. A call reaches the platform some time after its token was taken (signing, the connection, the
  network), and a token taken ahead is spent up to its hold window later; calls the platform sees in
  an instant are at most the tokens taken over that lag before it, so the burst is cut by rate x lag
  tokens (at least one, for rounding), not by a fixed share: 5% of a burst of 50 was 3 tokens, 6 s of
  lag at TikTok's sandbox-scaled 0.5/s, and held a burst-bound run to 0.84 of what the limits allow.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable

import redis

from pipeline import keys
from pipeline.errors import RateLimited
from pipeline.ports import Limit

__all__ = ["Limit", "RateLimiter"]


# Returns {seconds to wait as a string (Lua numbers would be truncated to integers), tokens granted}:
# "0" = granted. ARGV[5] is how many tokens to take at most (>= cost): as many as there are, if at least cost.
# The call counter counts this call (cost); tokens taken ahead are counted as they are spent.
_TAKE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'blocked_until')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
local blocked = tonumber(state[3]) or 0
local ttl = math.ceil(burst / rate * 2 + 60)
if now < blocked then
  return {tostring(blocked - now), 0}
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local want = math.max(cost, tonumber(ARGV[5]) or cost)
local wait = 0
local granted = 0
if tokens >= cost then
  granted = math.max(cost, math.min(want, math.floor(tokens)))
  tokens = tokens - granted
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], ttl)
if wait == 0 then redis.call('HINCRBY', KEYS[2], ARGV[4], cost) end
return {tostring(wait), granted}
"""

_BLOCK = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) + tonumber(now_parts[2]) / 1000000
local until_ts = now + tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'blocked_until')) or 0
if until_ts > current then
  redis.call('HSET', KEYS[1], 'blocked_until', tostring(until_ts), 'tokens', '0', 'ts', tostring(until_ts))
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) + 120))
end
return 1
"""


PREFETCH_MAX = 64
"""The most tokens one Lua call takes ahead for this process."""

SKEW = 0.05
"""Seconds a call may reach the platform later than another taken after it (our assumption, not a
published figure): signing and sending on a loaded 2-core machine, a connection being opened, network
jitter. A lag beyond it can cost one 429 right after a burst, which `block` then absorbs for everyone."""

ROOMY = 100
"""From this burst on (warehouse APIs, a benchmark with limits off) tokens are taken ahead (`_Reservoir`)."""

HOLD = 0.025
"""Seconds a token taken ahead may be kept before it is dropped."""


class _Reservoir:
    """Tokens this process took ahead from one bucket, and until when it may spend them.

    Why it stays within the platform's limit (burst B, rate r): the shared bucket refills at r' = r x
    headroom and holds B' = B - ceil(r'(skew + h)) tokens, where h is the hold window. A call reaches
    the platform at most skew after its token was taken, or h + skew when taken ahead, so the calls the
    platform sees in any window W are at most the takes of W widened by skew + h:
    B' + r'(W + skew + h) <= B + rW. Tokens not spent in time are dropped (the bucket lends them to
    nobody else: a little budget lost, never exceeded)."""

    __slots__ = ("tokens", "spend_by")

    def __init__(self) -> None:
        self.tokens = 0
        self.spend_by = 0.0


def _plan(limit: Limit, headroom: float, skew: float) -> tuple[float, int, int, float]:
    """(our bucket's rate, its burst, extra tokens to take ahead, seconds they may be kept).

    Only a roomy bucket fast enough to make taking ahead worth it (two tokens or more in a hold window)
    takes ahead; the burst margin covers the lag of its calls, hold window included (see `_Reservoir`)."""
    rate = limit.rate * headroom
    extra, keep = 0, 0.0
    if limit.burst >= ROOMY and rate > 0:
        extra = min(PREFETCH_MAX, math.floor(rate * HOLD))
        keep = HOLD if extra >= 2 else 0.0
        extra = extra if extra >= 2 else 0
    margin = max(1, math.ceil(rate * (skew + keep)))
    return rate, max(1, limit.burst - margin), extra, keep


class RateLimiter:
    """Blocks a caller until its platform operation may be called, or raises RateLimited when the wait
    would exceed `max_wait` (so a Celery task can hand the wait to a countdown instead of holding a slot)."""

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        *,
        max_wait: float = 30.0,
        headroom: float = 0.95,
        skew: float = SKEW,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._redis = client
        self._prefix = prefix
        self._take = client.register_script(_TAKE)
        self._block = client.register_script(_BLOCK)
        self.max_wait = max_wait
        # Spend a little less than the platform refills: a client at exactly the platform's rate keeps
        # its bucket at zero, where any network jitter that bunches two requests becomes a 429.
        self.headroom = headroom
        # Our calls reach the platform up to `skew` seconds after their tokens were taken: the burst is
        # cut by what the bucket refills in that time (at least one token), see `_plan`.
        self.skew = skew
        self._sleep = sleep
        self._reservoirs: dict[str, _Reservoir] = {}
        self._lock = threading.Lock()

    def _key(self, platform: str, account: str, operation: str) -> str:
        return keys.rate_bucket(self._prefix, platform, account, operation)

    def try_take(self, platform: str, account: str, operation: str, limit: Limit, cost: int = 1) -> float:
        """0.0 when a token was taken, else the seconds until one will be there."""
        rate, burst, extra, keep = _plan(limit, self.headroom, self.skew)
        bucket = self._key(platform, account, operation)
        if extra:
            with self._lock:
                held = self._reservoirs.setdefault(bucket, _Reservoir())
                spend = held.tokens >= cost and time.monotonic() < held.spend_by
                if spend:
                    held.tokens -= cost
            if spend:  # the call is counted as it is made (one command, not the bucket's six)
                self._redis.hincrby(keys.api_calls(self._prefix), keys.api_call_field(platform, operation), cost)
                return 0.0
        started = time.monotonic()
        wait, granted = self._take(keys=[bucket, keys.api_calls(self._prefix)],
                                   args=[rate, burst, cost, keys.api_call_field(platform, operation), cost + extra])
        if extra and int(granted) > cost:
            with self._lock:
                held = self._reservoirs.get(bucket)  # None: block() emptied it meanwhile (a 429): keep none
                if held is not None:
                    held.tokens, held.spend_by = int(granted) - cost, started + keep
        return float(wait)

    def acquire(self, platform: str, account: str, operation: str, limit: Limit, cost: int = 1) -> float:
        """Take a token, sleeping while the wait is short; returns the seconds slept."""
        slept = 0.0
        while True:
            wait = self.try_take(platform, account, operation, limit, cost)
            if wait <= 0:
                return slept
            if slept + wait > self.max_wait:
                raise RateLimited(
                    f"{platform} {operation}: local rate budget exhausted for {wait:.1f}s", retry_after=wait
                )
            # A little jitter so processes that woke together do not collide on the same refill.
            nap = wait + random.uniform(0, min(0.05, wait * 0.1))
            self._sleep(nap)
            slept += nap

    def block(self, platform: str, account: str, operation: str, seconds: float) -> None:
        """After the platform throttled anyway: empty the bucket for every process for `seconds`, and
        count the throttle for `orderhub status`. Tokens this process took ahead are dropped with it
        (another process spends its own for at most their short window, see `_Reservoir`)."""
        with self._lock:
            self._reservoirs.pop(self._key(platform, account, operation), None)
        self._block(keys=[self._key(platform, account, operation)], args=[max(0.0, seconds)])
        self._redis.hincrby(keys.api_throttles(self._prefix), keys.api_call_field(platform, operation), 1)

    def call_counts(self) -> dict[str, int]:
        """Calls let through per `platform:operation` (one per token spent)."""
        return {k.decode(): int(v) for k, v in self._redis.hgetall(keys.api_calls(self._prefix)).items()}

    def throttle_counts(self) -> dict[str, int]:
        """Throttled responses per `platform:operation` since the counters were created."""
        return {k.decode(): int(v) for k, v in self._redis.hgetall(keys.api_throttles(self._prefix)).items()}
