"""A lease in Redis: one holder at a time for a named piece of work (e.g. one sync per shop).

`SET key token NX PX ttl` takes it; a Lua compare-and-delete gives it back only if the token still
matches, so a holder whose lease ran out cannot release the next holder's. The lease expires by
itself when a worker dies, so nothing stays locked forever. `live_lease` keeps a short lease renewed
while its holder runs, so a SIGKILLed holder stops blocking the work within seconds, not after the
whole task time limit.
"""

from __future__ import annotations

import threading
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


LIVE_TTL_SECONDS = 15.0


@contextmanager
def live_lease(client: redis.Redis, key: str, ttl_seconds: float = LIVE_TTL_SECONDS) -> Iterator[bool]:
    """Like `lease`, with a short ttl renewed every third of it from a thread for as long as the block
    runs. A killed process renews nothing, so its lease lapses within `ttl_seconds`; a hung one is
    ended by the task time limit. A renewal that finds the lease gone (Redis lost it for longer than
    the ttl) stops renewing: the holder cannot be stopped from here, and the work it guards is
    idempotent, as it must be for any lease that can lapse."""
    held = Lease(client, key, ttl_seconds)
    if not held.acquire():
        yield False
        return
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(ttl_seconds / 3):
            try:
                if not held.extend():
                    return
            except redis.RedisError:
                continue  # Redis is restarting: try again at the next beat, the lease may still be there

    renewer = threading.Thread(target=renew, name=f"lease-renewal:{key}", daemon=True)
    renewer.start()
    try:
        yield True
    finally:
        stop.set()
        renewer.join()
        held.release()


_RELEASE_MANY = """
local changed = {}
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then redis.call('DEL', KEYS[i]) end
  local watched = ARGV[3 * i - 1]
  if watched ~= '' and (redis.call('HGET', watched, ARGV[3 * i]) or '') ~= ARGV[3 * i + 1] then
    table.insert(changed, KEYS[i])
  end
end
return changed
"""


class Leases:
    """The keys `leases` holds; `watch[key] = (hash key, field, value read)` asks the release to say (in
    `changed`) which of them no longer hold that value, checked in the same script that gives them back:
    a change another worker made while it could not take the lease (it found the key held) is seen."""

    def __init__(self, held: list[str]) -> None:
        self.held = set(held)
        self.watch: dict[str, tuple[str, str, str]] = {}
        self.changed: list[str] = []


@contextmanager
def leases(client: redis.Redis, keys: list[str], ttl_seconds: float) -> Iterator[Leases]:
    """`lease` for many keys at once (a batch of orders): taken in one round trip, given back in one
    script, each with the same compare-and-delete as a single lease. Yields what is held; a key
    someone else holds is simply not among it."""
    if not keys:
        yield Leases([])
        return
    token = uuid.uuid4().hex
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.set(key, token, nx=True, px=int(ttl_seconds * 1000))
    held = [key for key, ok in zip(keys, pipe.execute(), strict=True) if ok]
    taken = Leases(held)
    try:
        yield taken
    finally:
        if held:
            args: list[str] = [token]
            for key in held:
                args += taken.watch.get(key, ("", "", ""))
            taken.changed = [k.decode() for k in client.register_script(_RELEASE_MANY)(keys=held, args=args)]
