"""The read side of the order store: one order, its timeline, holds, and the queries over all of them.

Kept apart from the writes (pipeline/store.py), which go through Lua scripts; `OrderStore` inherits
these reads, so callers see one store. Every key comes from pipeline/keys.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec
import orjson
import redis

from pipeline import keys
from pipeline.model import Hold, HoldReason, Order, TimelineEvent, decode_order
from pipeline.stages import UNSETTLED_RAW, Stage

UNMAPPED = "UNMAPPED"
"""Status-index bucket of orders whose payload never mapped (there is no canonical status to file under)."""


class StoredOrder(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    order: Order | None
    raw: bytes
    payload_hash: str
    hold: Hold | None
    stage: str


class OrderState(msgspec.Struct, frozen=True):
    """Where one stored order stands: its platform status (UNMAPPED for a payload that never mapped),
    how far Orderhub has taken it (a pipeline.stages.Stage, "" before any) and its hold reason, if any."""

    key: str
    status: str
    stage: str
    hold: str | None
    platform: str = ""


class StoreReads:
    """What `OrderStore` reads; it sets `redis` and `prefix`."""

    redis: redis.Redis
    prefix: str

    def _order_key(self, seller: str, key: str) -> str:
        return keys.order(self.prefix, seller, key)

    def _timeline_key(self, seller: str, key: str) -> str:
        return keys.timeline(self.prefix, seller, key)

    def get(self, seller: str, key: str) -> StoredOrder | None:
        return _stored(key, self.redis.hgetall(self._order_key(seller, key)))

    def get_many(self, seller: str, keys: Sequence[str], pipe: redis.client.Pipeline | None = None
                 ) -> list[StoredOrder | None]:
        """`get` of each key in one round trip (a batch of orders routed or submitted together), without
        the raw payload (`raw` is b""): routing and dispatch decide from the mapped order, and reading
        and parsing every raw platform payload again was most of their CPU. Given a pipeline, the reads
        are queued on it and the decoding is left to `decode_many`."""
        own = self.redis.pipeline(transaction=False) if pipe is None else pipe
        for key in keys:
            own.hmget(self._order_key(seller, key), _FIELDS)
        return [] if pipe is not None else decode_many(keys, own.execute())

    def timeline(self, seller: str, key: str) -> list[TimelineEvent]:
        return [_EVENT_DECODER.decode(item) for item in self.redis.lrange(self._timeline_key(seller, key), 0, -1)]

    def holds(self, seller: str, reason: HoldReason | None = None) -> dict[HoldReason, list[str]]:
        reasons = [reason] if reason else list(HoldReason)
        pipe = self.redis.pipeline(transaction=False)
        for r in reasons:
            pipe.smembers(keys.holds(self.prefix, seller, r.value))
        return {r: sorted(m.decode() for m in members) for r, members in zip(reasons, pipe.execute(), strict=True)}

    def status_counts(self, seller: str) -> dict[tuple[str, str], int]:
        """(platform, status) → number of orders, read from the status index sets."""
        indexes = [k.decode() for k in self.redis.scan_iter(match=keys.status_index_pattern(self.prefix, seller),
                                                             count=500)]
        pipe = self.redis.pipeline(transaction=False)
        for k in indexes:
            pipe.scard(k)
        counts = {}
        for k, n in zip(indexes, pipe.execute(), strict=True):
            platform, status = keys.parse_status_index(self.prefix, seller, k)
            if n:
                counts[(platform, status)] = n
        return counts

    def states(self, seller: str) -> list[OrderState]:
        """Every stored order of a seller with its status, stage and hold: the order keys come from the
        status index sets, the rest from one pipelined read of each order's hash (sized for tools
        and the demo, not for a hot path)."""
        indexes = list(self.redis.scan_iter(match=keys.status_index_pattern(self.prefix, seller), count=500))
        found = sorted(k.decode() for k in self.redis.sunion(indexes)) if indexes else []
        pipe = self.redis.pipeline(transaction=False)
        for key in found:
            pipe.hmget(self._order_key(seller, key), "status", "stage", "hold", "platform")
        return [OrderState(key, _text(status), _text(stage), hold.decode() if hold else None, _text(platform))
                for key, (status, stage, hold, platform) in zip(found, pipe.execute(), strict=True)]

    def oldest_unsubmitted(self, seller: str) -> tuple[str, datetime] | None:
        """The oldest READY order that has not reached a warehouse (nor been held): what ops chase first."""
        keys = self._with_status(seller, ("READY",))
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(self._order_key(seller, key), "stage", "hold", "doc")
        oldest = None
        for key, (stage, hold, doc) in zip(keys, pipe.execute(), strict=True):
            if hold or (stage or b"").decode() in _AT_WAREHOUSE_OR_DONE or not doc:
                continue
            placed = decode_order(doc).placed_at
            if oldest is None or placed < oldest[1]:
                oldest = (key, placed)
        return oldest

    def unsettled(self, seller: str, keys: Sequence[str]) -> list[str]:
        """The keys whose routing never finished: stage still "received" (routing never ran or was cut
        off) or "routed" (stock reserved, not yet at a warehouse). Routing them again is harmless
        (routing and submission are idempotent) and is how a message lost on the way gets redone."""
        if not keys:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.hget(self._order_key(seller, key), "stage")
        return [key for key, stage in zip(keys, pipe.execute(), strict=True) if stage in UNSETTLED_RAW]

    def listed_rows(self, seller: str, keys: Sequence[str]) -> list[tuple[bytes | None, bytes | None, bytes | None]]:
        """(list-row digest, hold, stage) of each key, in one round trip (see pipeline.sync.StoredRows)."""
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(self._order_key(seller, key), "row", "hold", "stage")
        return [tuple(reply) for reply in pipe.execute()]

    def stalled(self, seller: str, quiet_since: datetime, platforms: Sequence[str] | None = None) -> list[str]:
        """READY or PARTIALLY_SHIPPED orders, not held, whose routing never finished (stage "received"
        or "routed") and whose timeline has not moved since `quiet_since`: the ones whose message was
        lost on the way (a worker killed between the broker's pop and its unacked record, a Redis
        restart) and that no re-read will bring back, their platform copy being unchanged.

        Given the seller's `platforms`, the status index sets are named, not SCANned for; only orders
        whose stage says unfinished have their timeline read (at 100,000 orders, a sweep every few
        seconds that scanned the keyspace and read every timeline kept Redis 40% busy)."""
        keys = self._with_status(seller, ("READY", "PARTIALLY_SHIPPED"), platforms)
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.hmget(self._order_key(seller, key), "stage", "hold")
        unfinished = [key for key, (stage, hold) in zip(keys, pipe.execute(), strict=True)
                      if not hold and stage in UNSETTLED_RAW]
        for key in unfinished:
            pipe.lindex(self._timeline_key(seller, key), -1)
        return [key for key, last in zip(unfinished, pipe.execute(), strict=True)
                if last and datetime.fromisoformat(orjson.loads(last)["at"]) <= quiet_since]

    def _with_status(self, seller: str, statuses: Sequence[str], platforms: Sequence[str] | None = None) -> list[str]:
        """Keys of the orders stored with one of `statuses`, on `platforms` (default: any, found by SCAN)."""
        if platforms is None:
            indexes = [idx for status in statuses
                       for idx in self.redis.scan_iter(match=keys.status_index_pattern(self.prefix, seller, status),
                                                       count=500)]
        else:
            indexes = [keys.status_index(self.prefix, seller, platform, status)
                       for status in statuses for platform in sorted(set(platforms))]
        return [k.decode() for idx in indexes for k in self.redis.smembers(idx)]

    def keys(self, seller: str) -> list[str]:
        """Every stored order key of a seller (a SCAN: for checks and tools, not for hot paths)."""
        return sorted(keys.order.order_key_of(self.prefix, seller, k)
                      for k in self.redis.scan_iter(match=keys.order.pattern(self.prefix, seller), count=1000))

    def mapped_keys(self, seller: str) -> list[str]:
        """Every order key in a status index but UNMAPPED's (the orders whose payload mapped), sorted."""
        found: set[str] = set()
        for index in self.redis.scan_iter(match=keys.status_index_pattern(self.prefix, seller), count=500):
            _, status = keys.parse_status_index(self.prefix, seller, index.decode())
            if status != UNMAPPED:
                found.update(member.decode() for member in self.redis.smembers(index))
        return sorted(found)

    def sellers(self) -> list[str]:
        return sorted(s.decode() for s in self.redis.smembers(keys.sellers(self.prefix)))


def _stored(key: str, fields: dict[bytes, bytes]) -> StoredOrder | None:
    if not fields:
        return None
    doc = fields.get(b"doc")
    hold = None
    if b"hold" in fields:
        hold = Hold(HoldReason(fields[b"hold"].decode()), fields.get(b"hold_detail", b"").decode())
    return StoredOrder(
        key=key,
        order=decode_order(doc) if doc else None,
        raw=fields.get(b"raw", b""),
        payload_hash=fields.get(b"hash", b"").decode(),
        hold=hold,
        stage=fields.get(b"stage", b"").decode(),
    )


_FIELDS = ("doc", "hash", "hold", "hold_detail", "stage")
_FIELD_NAMES = tuple(name.encode() for name in _FIELDS)


def decode_many(keys: Sequence[str], replies: Sequence[list[bytes | None]]) -> list[StoredOrder | None]:
    """The replies of `get_many`'s queued reads, as `get` returns them (but for `raw`)."""
    return [_stored(key, {name: value for name, value in zip(_FIELD_NAMES, values, strict=True)
                          if value is not None})
            for key, values in zip(keys, replies, strict=True)]


_EVENT_DECODER = msgspec.json.Decoder(TimelineEvent)
_AT_WAREHOUSE_OR_DONE = (Stage.SUBMITTED, Stage.SHIPPED, Stage.IGNORED, Stage.CANCELLED)


def _text(value: bytes | None) -> str:
    return value.decode() if value else ""
