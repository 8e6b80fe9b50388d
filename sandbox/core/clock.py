"""The sandbox clock: the one notion of "now" every emulator, bucket and order lifecycle runs on.

Tests need to move time (advance an hour, or let Amazon's one-request-a-minute refill happen in
a second) without sleeping, so nothing in the sandbox reads the wall clock directly.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """A controllable UTC clock.

    Virtual time runs at ``factor`` times real time from an anchor: ``scale(60)`` makes a virtual
    minute pass every real second, ``scale(0)`` freezes time (deterministic tests), ``advance(s)``
    jumps. ``start`` is remembered so order generation can be anchored to it: the same seed and
    the same start give byte-identical orders.
    """

    def __init__(self, start: datetime | None = None, factor: float = 1.0) -> None:
        if start is None:
            start = datetime.now(UTC).replace(microsecond=0)
        if start.tzinfo is None:
            raise ValueError("SandboxClock start must be timezone-aware")
        if factor < 0:
            raise ValueError("clock factor must be >= 0")
        self.start = start.astimezone(UTC)
        self._lock = threading.Lock()
        self._anchor_virtual = self.start
        self._anchor_real = time.monotonic()
        self._factor = float(factor)

    def now(self) -> datetime:
        """Current virtual time, timezone-aware UTC."""
        with self._lock:
            return self._now_locked()

    def timestamp(self) -> int:
        """Current virtual time as unix seconds (what TikTok compares ``timestamp`` against)."""
        return int(self.now().timestamp())

    @property
    def factor(self) -> float:
        return self._factor

    def advance(self, seconds: float) -> datetime:
        """Jump forward (or back, with a negative value) by ``seconds`` of virtual time."""
        with self._lock:
            self._rebase_locked()
            self._anchor_virtual += timedelta(seconds=seconds)
            return self._anchor_virtual

    def scale(self, factor: float) -> None:
        """From now on, virtual time runs ``factor`` times faster than real time (0 freezes it)."""
        if factor < 0:
            raise ValueError("clock factor must be >= 0")
        with self._lock:
            self._rebase_locked()
            self._factor = float(factor)

    def set(self, when: datetime) -> None:
        """Put the clock at an absolute instant (keeps the current speed)."""
        if when.tzinfo is None:
            raise ValueError("SandboxClock.set needs a timezone-aware datetime")
        with self._lock:
            self._anchor_real = time.monotonic()
            self._anchor_virtual = when.astimezone(UTC)

    def _rebase_locked(self) -> None:
        self._anchor_virtual = self._now_locked()
        self._anchor_real = time.monotonic()

    def _now_locked(self) -> datetime:
        elapsed = (time.monotonic() - self._anchor_real) * self._factor
        return self._anchor_virtual + timedelta(seconds=elapsed)
