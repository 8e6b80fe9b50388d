"""The order store on Redis: idempotent batch upserts, timelines, holds and sync cursors.

Every key lives under the seller's base (pipeline/keys.py), so sellers and test runs never collide;
the Lua scripts here build their keys from that base, and keys.py names the families they build. A
batch upsert is one Lua call (one round trip): an identical payload hash writes nothing, an older
platform update never replaces a newer one, and a payload that did not map is kept raw and held.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import msgspec
import orjson
import redis

from pipeline import keys
from pipeline.model import (
    Address,
    EventKind,
    Hold,
    HoldReason,
    Order,
    TimelineEvent,
    decode_order,
    encode,
    utc_now,
)
from pipeline.stages import UNSETTLED_RAW, Stage

UNMAPPED = "UNMAPPED"
"""Status-index bucket of orders whose payload never mapped (there is no canonical status to file under)."""


class UpsertResult(enum.StrEnum):
    NEW = "NEW"
    UPDATED = "UPDATED"
    UNCHANGED = "UNCHANGED"  # identical payload hash: nothing written
    STALE = "STALE"  # the platform's update time is older than the stored one: nothing written


class Received(msgspec.Struct, frozen=True, kw_only=True):
    """One order as fetched: its raw bundle and either the canonical order or why it did not map."""

    key: str
    platform: str
    shop_id: str
    raw: bytes
    payload_hash: str
    updated_at: datetime | None
    order: Order | None = None
    error: str | None = None


class StoredOrder(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    order: Order | None
    raw: bytes
    payload_hash: str
    hold: Hold | None
    stage: str


def _micros(moment: datetime | None) -> int:
    return 0 if moment is None else int(moment.timestamp() * 1_000_000)


# ARGV: prefix, seller, event timestamp, then 9 values per item (see _item_args). The keys it builds are
# pipeline/keys.py's order, timeline, status_index, holds, event_counts and sellers; the stage it writes
# for a new order is Stage.RECEIVED. KEYS are not declared per item because the status and hold index
# keys depend on what is stored; Orderhub runs on a single Redis (Celery cannot use Redis Cluster as a
# broker anyway), where this is safe.
_UPSERT = """
local base = ARGV[1] .. ':' .. ARGV[2] .. ':'
local at = ARGV[3]
local results = {}
local i = 4
while i <= #ARGV do
  local key, hash, upd, status, platform = ARGV[i], ARGV[i+1], tonumber(ARGV[i+2]), ARGV[i+3], ARGV[i+4]
  local doc, raw, err, shop = ARGV[i+5], ARGV[i+6], ARGV[i+7], ARGV[i+8]
  i = i + 9
  local okey = base .. 'o:' .. key
  local tlkey = base .. 'tl:' .. key
  local old = redis.call('HMGET', okey, 'hash', 'upd', 'status', 'platform', 'hold')
  local result
  if old[1] and old[1] == hash then
    result = 'UNCHANGED'
  elseif old[1] and upd > 0 and (tonumber(old[2]) or 0) > upd then
    result = 'STALE'
  else
    result = old[1] and 'UPDATED' or 'NEW'
    local fields = {'hash', hash, 'raw', raw, 'platform', platform, 'shop', shop}
    if upd > 0 and (not old[2] or upd >= tonumber(old[2])) then
      table.insert(fields, 'upd'); table.insert(fields, tostring(upd))
    end
    local new_status = old[3] or 'UNMAPPED'
    if err == '' then
      new_status = status
      table.insert(fields, 'doc'); table.insert(fields, doc)
    end
    table.insert(fields, 'status'); table.insert(fields, new_status)
    if not old[1] then table.insert(fields, 'stage'); table.insert(fields, 'received') end
    redis.call('HSET', okey, unpack(fields))
    if old[3] ~= new_status then
      if old[3] then redis.call('SREM', base .. 'idx:' .. (old[4] or platform) .. ':' .. old[3], key) end
      redis.call('SADD', base .. 'idx:' .. platform .. ':' .. new_status, key)
    end
    local kind = (result == 'NEW') and 'received' or 'updated'
    redis.call('RPUSH', tlkey, cjson.encode({at = at, kind = kind, detail = (err == '' and status or 'payload did not map')}))
    redis.call('HINCRBY', base .. 'stats:events', kind, 1)
    if err ~= '' then
      if old[5] and old[5] ~= 'INVALID_PAYLOAD' then
        redis.call('SREM', base .. 'holds:' .. old[5], key)
      end
      redis.call('HSET', okey, 'hold', 'INVALID_PAYLOAD', 'hold_detail', err)
      redis.call('SADD', base .. 'holds:INVALID_PAYLOAD', key)
      redis.call('RPUSH', tlkey, cjson.encode({at = at, kind = 'held', detail = 'INVALID_PAYLOAD: ' .. err}))
      redis.call('HINCRBY', base .. 'stats:events', 'held:INVALID_PAYLOAD', 1)
    elseif old[5] == 'INVALID_PAYLOAD' then
      redis.call('HDEL', okey, 'hold', 'hold_detail')
      redis.call('SREM', base .. 'holds:INVALID_PAYLOAD', key)
      redis.call('RPUSH', tlkey, cjson.encode({at = at, kind = 'released', detail = 'a valid payload arrived'}))
    end
  end
  table.insert(results, result)
end
redis.call('SADD', ARGV[1] .. ':sellers', ARGV[2])
return results
"""

# KEYS: order hashes; ARGV: the list-row digest of each (only on orders that exist)
_REMEMBER_ROWS = """
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then redis.call('HSET', KEYS[i], 'row', ARGV[i]) end
end
return #KEYS
"""

_HOLD = """
local okey, base, key = KEYS[1], ARGV[1], ARGV[2]
local old = redis.call('HGET', okey, 'hold')
if old then redis.call('SREM', base .. 'holds:' .. old, key) end
redis.call('HSET', okey, 'hold', ARGV[3], 'hold_detail', ARGV[4])
redis.call('SADD', base .. 'holds:' .. ARGV[3], key)
redis.call('RPUSH', KEYS[2], ARGV[5])
redis.call('HINCRBY', base .. 'stats:events', 'held:' .. ARGV[3], 1)
return old or ''
"""

_RELEASE = """
local okey, base, key = KEYS[1], ARGV[1], ARGV[2]
local old = redis.call('HGET', okey, 'hold')
if not old then return '' end
redis.call('HDEL', okey, 'hold', 'hold_detail')
redis.call('SREM', base .. 'holds:' .. old, key)
redis.call('RPUSH', KEYS[2], ARGV[3])
return old
"""


class OrderState(msgspec.Struct, frozen=True):
    """Where one stored order stands: its platform status (UNMAPPED for a payload that never mapped),
    how far Orderhub has taken it (a pipeline.stages.Stage, "" before any) and its hold reason, if any."""

    key: str
    status: str
    stage: str
    hold: str | None
    platform: str = ""


class OrderStore:
    """All reads and writes of orders, timelines, holds and cursors for every seller."""

    def __init__(self, client: redis.Redis, prefix: str = "orderhub") -> None:
        self.redis = client
        self.prefix = prefix
        self._upsert = client.register_script(_UPSERT)
        self._hold = client.register_script(_HOLD)
        self._release = client.register_script(_RELEASE)
        self._remember_rows = client.register_script(_REMEMBER_ROWS)

    def _order_key(self, seller: str, key: str) -> str:
        return keys.order(self.prefix, seller, key)

    def _timeline_key(self, seller: str, key: str) -> str:
        return keys.timeline(self.prefix, seller, key)

    # -- writes ------------------------------------------------------------------------------

    def restore(self, seller: str, item: Received) -> UpsertResult:
        """Store `item` over the stored copy even though its payload hash is the same: a raw payload kept
        after it failed to map, mapped again by a fixed connector. Writes as the upsert does (a mapped copy
        releases the INVALID_PAYLOAD hold; one that still fails keeps it, with the new error)."""
        self.redis.hdel(keys.order(self.prefix, seller, item.key), "hash")
        (result,) = self.upsert(seller, [item])
        return result

    def upsert(self, seller: str, items: Sequence[Received]) -> list[UpsertResult]:
        """Store a batch in one round trip; one result per item, in order."""
        if not items:
            return []
        args: list[object] = [self.prefix, seller, utc_now().isoformat()]
        for item in items:
            args.extend(self._item_args(item))
        results = self._upsert(keys=[], args=args)
        return [UpsertResult(r.decode() if isinstance(r, bytes) else r) for r in results]

    @staticmethod
    def _item_args(item: Received) -> list[object]:
        if item.order is not None:
            return [item.key, item.payload_hash, _micros(item.order.updated_at), item.order.status.value,
                    item.platform, encode(item.order), item.raw, "", item.shop_id]
        return [item.key, item.payload_hash, _micros(item.updated_at), UNMAPPED, item.platform, b"",
                item.raw, item.error or "payload did not map", item.shop_id]

    def append_event(self, seller: str, key: str, kind: EventKind, detail: str = "",
                     pipe: redis.client.Pipeline | None = None, addresses: Mapping[str, Address] | None = None
                     ) -> None:
        """Add to the order's timeline; given a pipeline, only queue the commands on it (the caller's
        round trip carries them)."""
        own = pipe is None
        pipe = self.redis.pipeline(transaction=False) if own else pipe
        pipe.rpush(self._timeline_key(seller, key), _event_json(kind, detail, addresses))
        pipe.hincrby(keys.event_counts(self.prefix, seller), kind.value, 1)
        if own:
            pipe.execute()

    def event_counts(self, seller: str) -> dict[str, int]:
        """How many events of each kind (and holds per reason, as `held:REASON`) ever happened."""
        return {k.decode(): int(v) for k, v in self.redis.hgetall(keys.event_counts(self.prefix, seller)).items()}

    def hold(self, seller: str, key: str, reason: HoldReason, detail: str) -> None:
        """Hold an order with a reason an operator can act on (replaces any earlier hold)."""
        base = keys.seller_base(self.prefix, seller)
        self._hold(
            keys=[self._order_key(seller, key), self._timeline_key(seller, key)],
            args=[base, key, reason.value, detail, _event_json(EventKind.HELD, f"{reason.value}: {detail}")],
        )

    def release(self, seller: str, key: str, detail: str = "") -> HoldReason | None:
        base = keys.seller_base(self.prefix, seller)
        old = self._release(
            keys=[self._order_key(seller, key), self._timeline_key(seller, key)],
            args=[base, key, _event_json(EventKind.RELEASED, detail)],
        )
        old = old.decode() if isinstance(old, bytes) else old
        return HoldReason(old) if old else None

    def set_stage(self, seller: str, key: str, stage: Stage, pipe: redis.client.Pipeline | None = None) -> None:
        (pipe if pipe is not None else self.redis).hset(self._order_key(seller, key), "stage", stage)

    # -- reads -------------------------------------------------------------------------------

    def get(self, seller: str, key: str) -> StoredOrder | None:
        fields = self.redis.hgetall(self._order_key(seller, key))
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

    def remember_rows(self, seller: str, digests: Mapping[str, str]) -> None:
        """Note the list row each stored order was built from; a key not stored is left alone."""
        if digests:
            self._remember_rows(keys=[self._order_key(seller, key) for key in digests], args=list(digests.values()))

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

    def sellers(self) -> list[str]:
        return sorted(s.decode() for s in self.redis.smembers(keys.sellers(self.prefix)))

    # -- sync cursors: they move only when told to ------------------------------------------

    def cursor(self, seller: str, shop_id: str, stream: str = "orders") -> datetime | None:
        value = self.redis.get(keys.cursor(self.prefix, seller, shop_id, stream))
        return datetime.fromisoformat(value.decode()) if value else None

    def cursor_read_at(self, seller: str, shop_id: str, stream: str = "orders") -> datetime | None:
        """When the run that moved the cursor last started (None: unknown, e.g. set by hand)."""
        value = self.redis.get(keys.cursor_read_at(self.prefix, seller, shop_id, stream))
        return datetime.fromisoformat(value.decode()) if value else None

    def set_cursor(self, seller: str, shop_id: str, moment: datetime, stream: str = "orders",
                   read_at: datetime | None = None) -> None:
        """Move the cursor; `read_at` is when the run that read up to it started (see sync_orders)."""
        if moment.tzinfo is None or (read_at is not None and read_at.tzinfo is None):
            raise ValueError("cursor must be timezone-aware")
        read_at_key = keys.cursor_read_at(self.prefix, seller, shop_id, stream)
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(keys.cursor(self.prefix, seller, shop_id, stream), moment.astimezone(UTC).isoformat())
        if read_at is None:
            pipe.delete(read_at_key)
        else:
            pipe.set(read_at_key, read_at.astimezone(UTC).isoformat())
        pipe.execute()


_EVENT_DECODER = msgspec.json.Decoder(TimelineEvent)
_AT_WAREHOUSE_OR_DONE = (Stage.SUBMITTED, Stage.SHIPPED, Stage.IGNORED, Stage.CANCELLED)


def _text(value: bytes | None) -> str:
    return value.decode() if value else ""


def _event_json(kind: EventKind, detail: str, addresses: Mapping[str, Address] | None = None) -> bytes:
    event: dict[str, object] = {"at": utc_now().isoformat(), "kind": kind.value, "detail": detail}
    if addresses:
        event["addresses"] = {name: msgspec.to_builtins(address) for name, address in addresses.items()}
    return orjson.dumps(event)
