"""Token-bucket rate limiting and per-operation call counters for the emulators.

Marketplaces meter each (seller, operation) pair with a token bucket (rate + burst). The buckets
run on the sandbox clock, so a scaled clock refills them faster. The counters are what tests read
to prove a client stays under its quota ("zero throttled responses after the initial burst").
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from sandbox.core.clock import SandboxClock


@dataclass(frozen=True)
class RateLimit:
    """A bucket's shape: ``rate`` tokens a second refill, holding at most ``burst``."""

    rate: float
    burst: int

    def header_value(self) -> str:
        """The rate as Amazon prints it in ``x-amzn-RateLimit-Limit`` (e.g. ``0.0167``)."""
        return f"{self.rate:g}"


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: float  # seconds of sandbox time until one token is back; 0 when allowed


class _Bucket:
    def __init__(self, limit: RateLimit, now: float) -> None:
        self.limit = limit
        self.tokens = float(limit.burst)
        self.stamp = now

    def take(self, now: float) -> RateDecision:
        elapsed = max(0.0, now - self.stamp)
        self.tokens = min(float(self.limit.burst), self.tokens + elapsed * self.limit.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return RateDecision(True, 0.0)
        missing = 1.0 - self.tokens
        wait = missing / self.limit.rate if self.limit.rate > 0 else float("inf")
        return RateDecision(False, wait)


class RateLimiter:
    """One bucket per (account, operation), created full on first use.

    ``limits`` maps operation name → RateLimit; operations without an entry are not metered.
    """

    def __init__(self, clock: SandboxClock, limits: Mapping[str, RateLimit]) -> None:
        self.clock = clock
        self.limits: dict[str, RateLimit] = dict(limits)
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, account: str, operation: str) -> RateDecision:
        limit = self.limits.get(operation)
        if limit is None:
            return RateDecision(True, 0.0)
        now = self.clock.now().timestamp()
        with self._lock:
            bucket = self._buckets.get((account, operation))
            if bucket is None or bucket.limit != limit:
                bucket = self._buckets[(account, operation)] = _Bucket(limit, now)
            return bucket.take(now)

    def set_limit(self, operation: str, limit: RateLimit) -> None:
        """Change an operation's limit; its buckets restart full."""
        with self._lock:
            self.limits[operation] = limit

    def reset(self) -> None:
        """Refill every bucket (forget all history)."""
        with self._lock:
            self._buckets.clear()


COUNTER_FIELDS = ("calls", "throttled", "auth_failures", "errors", "injected")


class CallCounters:
    """Per-operation counts of what the emulator answered.

    ``calls`` every API request routed to the operation; ``throttled`` every 429 (real or
    injected); ``auth_failures`` every credential rejection; ``errors`` every 5xx;
    ``injected`` every fault the fault injector applied (including dropped connections).
    Each throttle's wall-clock instant is kept too, so a benchmark can tell the throttles of the
    initial burst from those of the steady state.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTER_FIELDS, 0))
        self._throttled_at: dict[str, list[float]] = defaultdict(list)

    def add(self, operation: str, field: str, amount: int = 1) -> None:
        if field not in COUNTER_FIELDS:
            raise KeyError(field)
        with self._lock:
            self._counts[operation][field] += amount
            if field == "throttled":
                self._throttled_at[operation].extend([time.monotonic()] * amount)

    def throttled_since(self, operation: str, moment: float) -> int:
        """Throttled answers of ``operation`` at or after ``moment`` (a ``time.monotonic()`` reading)."""
        with self._lock:
            return sum(1 for at in self._throttled_at.get(operation, ()) if at >= moment)

    def get(self, operation: str, field: str = "calls") -> int:
        with self._lock:
            return self._counts[operation][field] if operation in self._counts else 0

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {op: dict(counts) for op, counts in sorted(self._counts.items())}

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._throttled_at.clear()
