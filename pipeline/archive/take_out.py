"""Archived orders out of Redis, a batch per script call: the last step of a move (pipeline/archive/move.py).

One Lua call takes a whole batch out: for each order it checks that Redis still holds what was archived
(the payload hash in the order hash, the timeline's length) and only then deletes the order's keys, takes
it out of the seller's indexes and leaves its tombstone (pipeline/archive/tombstones.py); an order that
changed since it was read is left whole. A script runs atomically, so no sync or router can write
between an order's check and its deletion, which is what WATCH/MULTI/EXEC per order gave at a round trip
or three each. A batch of 500 holds Redis for a few milliseconds, as the sync's upsert of 500 does.

The per-order families come as their heads (`family(prefix, seller, "")`, from pipeline/keys.py), the
order key appended in Lua; the status index and hold keys depend on what is stored, so the script builds
them from the seller's base as the upsert script does; every other key is passed whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pipeline import keys
from pipeline.archive.records import ArchivedOrder
from pipeline.archive.tombstones import bucket, expires_at, tombstone_value
from pipeline.store import OrderStore

PER_ORDER = (keys.order, keys.timeline, keys.submitted, keys.shipments, keys.tracking_pushed,
             keys.tracking_refused, keys.acknowledged, keys.allocation, keys.consumed)
"""Every family with one key per order but the route lease (it expires by itself, and a router may hold
it). The first two are the ones the script checks."""

# ARGV: the number of families F, their F heads (order's first, timeline's second), the seller's base,
# the allocations set, the references hash, the address re-fetch hash; then per order: key, payload hash,
# timeline length, tombstone hash ('' for none), field, value, expiry (Unix seconds), the number of
# tracking_due sets and those keys, the number of outbound references and those references.
# Returns 1 (taken out) or 0 (changed: left as it was) per order.
_TAKE_OUT = """
local families = tonumber(ARGV[1])
local heads = {}
for f = 1, families do heads[f] = ARGV[1 + f] end
local i = families + 2
local base, allocations, references, refetch = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
i = i + 4
local taken = {}
while i <= #ARGV do
  local key, hash, events = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local tombs, field, value, expiry = ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  local due_count = tonumber(ARGV[i + 7])
  local due_first = i + 8
  local ref_count = tonumber(ARGV[due_first + due_count])
  local ref_first = due_first + due_count + 1
  i = ref_first + ref_count
  local stored = redis.call('HMGET', heads[1] .. key, 'hash', 'platform', 'status', 'hold')
  if stored[1] == hash and redis.call('LLEN', heads[2] .. key) == events then
    if tombs ~= '' then
      redis.call('HSET', tombs, field, value)
      redis.call('EXPIREAT', tombs, expiry)
    end
    local doomed = {}
    for f = 1, families do doomed[f] = heads[f] .. key end
    redis.call('DEL', unpack(doomed))
    if stored[2] and stored[3] then redis.call('SREM', base .. 'idx:' .. stored[2] .. ':' .. stored[3], key) end
    if stored[4] then redis.call('SREM', base .. 'holds:' .. stored[4], key) end
    redis.call('SREM', allocations, key)
    for d = 0, due_count - 1 do redis.call('ZREM', ARGV[due_first + d], key) end
    if ref_count > 0 then redis.call('HDEL', references, unpack(ARGV, ref_first, ref_first + ref_count - 1)) end
    redis.call('HDEL', refetch, key)
    taken[#taken + 1] = 1
  else
    taken[#taken + 1] = 0
  end
end
return taken
"""


class TakeOut:
    """The take-out script, registered on one store's client."""

    def __init__(self, store: OrderStore) -> None:
        self.store = store
        self._script = store.redis.register_script(_TAKE_OUT)

    def __call__(self, seller: str, records: Sequence[ArchivedOrder], archived_at: datetime,
                 window: timedelta) -> list[bool]:
        """Take each of `records` (archived, committed) out of Redis if Redis still holds what was archived,
        leaving its tombstone unless its bucket would already have expired; True per order taken out."""
        if not records:
            return []
        prefix = self.store.prefix
        args: list[object] = [len(PER_ORDER), *(family(prefix, seller, "") for family in PER_ORDER),
                              keys.seller_base(prefix, seller), keys.allocations(prefix, seller),
                              keys.references(prefix, seller), keys.address_refetch(prefix, seller)]
        for record in records:
            expiry = expires_at(record.placed_at, window)
            if expiry > archived_at:
                tomb = [bucket(prefix, seller, record.platform, record.shop_id, record.placed_at),
                        record.external_id, tombstone_value(record.payload_hash, archived_at),
                        int(expiry.timestamp())]
            else:  # its bucket would be gone already: relisted.screen asks the archive about it instead
                tomb = ["", "", b"", 0]
            due = sorted({shipment.warehouse for shipment in record.shipments})
            args += [record.key, record.payload_hash, len(record.timeline), *tomb,
                     len(due), *(keys.tracking_due(prefix, seller, warehouse) for warehouse in due),
                     len(record.submissions), *(sub.reference for sub in record.submissions)]
        return [bool(done) for done in self._script(keys=[], args=args)]
