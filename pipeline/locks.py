"""A lease in Redis: one holder at a time for a named piece of work (e.g. one sync per shop).

`SET key token NX PX ttl` takes it; a Lua compare-and-delete gives it back only if the token still
matches, so a holder whose lease ran out cannot release the next holder's. The lease expires by
itself when a worker dies, so nothing stays locked forever.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class Lease:
    def __init__(self, client: redis.Redis, key: str, ttl_seconds: float) -> None:
        self._redis = client
        self.key = key
        self.ttl_ms = int(ttl_seconds * 1000)
        self.token = uuid.uuid4().hex
        self._release = client.register_script(_RELEASE)
        self._extend = client.register_script(_EXTEND)

    def acquire(self) -> bool:
        return bool(self._redis.set(self.key, self.token, nx=True, px=self.ttl_ms))

    def release(self) -> bool:
        return bool(self._release(keys=[self.key], args=[self.token]))

    def extend(self) -> bool:
        """Another full ttl for long work done in steps; False when the lease was already lost."""
        return bool(self._extend(keys=[self.key], args=[self.token, self.ttl_ms]))


@contextmanager
def lease(client: redis.Redis, key: str, ttl_seconds: float) -> Iterator[bool]:
    """`with lease(...) as held:` — held is False when someone else has it (do nothing then)."""
    held = Lease(client, key, ttl_seconds)
    acquired = held.acquire()
    try:
        yield acquired
    finally:
        if acquired:
            held.release()
