"""The order store's Lua scripts, kept apart from the Python that calls them (pipeline/store.py).

Each write that must be atomic, or that would otherwise take a round trip per order, is one script:
the batch upsert, a hold, a release and the list-row digests. They build their keys from the seller's
base; pipeline/keys.py names the families they build, and tests/test_keys.py checks them against what
the scripts actually write.
"""

from __future__ import annotations

import hashlib

import redis

# ARGV: prefix, seller, event timestamp, then 12 values per item (see OrderStore._item_args). The keys it
# builds are pipeline/keys.py's order, timeline, status_index, holds, event_counts, sellers and
# legacy_tombstone; the stage it writes for a new order is Stage.RECEIVED. An order not stored whose
# tombstone is there (moved to the archive, pipeline/archive/tombstones.py) is not stored again: ARCHIVED
# when its payload hash starts as the tombstone does, RELISTED when it changed. Each item brings its
# tombstone's hash key (keys.tombstones, by shop and placed day), field (external id) and the head its hash
# would have there (`hash_head`); an item whose payload did not map has no placed day, so it brings none:
# it is stored and held as any unmapped one. A tombstone of the old kind, a key per order
# (keys.legacy_tombstone), is still read while the last of them live. Read in the same script as the
# write, so a move and a sync never interleave between the check and the store. KEYS are not declared per
# item because the status and hold index keys depend on what is stored; Orderhub runs on a single Redis
# (Celery cannot use Redis Cluster as a broker anyway), where this is safe.
HASH_HEAD = 8
"""Bytes of a payload's SHA-256 a tombstone keeps: 64 bits. A changed payload is taken for the archived
one (ARCHIVED: its change never recorded) only when its hash starts with the same 64 bits, a chance of
2**-64 (5e-20) per listing of a changed archived order: a million such listings a day would see it once
in about 5e10 years. 48 bits would do too (once in ~800,000 years at that rate) but save nothing: the
head and the 4-byte archive time make a 12-byte value, the most a 16-byte allocation holds (a Redis
string adds a 3-byte header and a NUL), and a shorter one gets the same 16 bytes."""


def hash_head(payload_hash: str) -> bytes:
    """The first HASH_HEAD bytes of a payload hash: the hex SHA-256 pipeline/sync.py makes, decoded. A
    hash that is not one (tests make some up) is hashed once more for its bytes, the same way everywhere
    this is called, so it still compares as itself."""
    hex_head = payload_hash[:2 * HASH_HEAD]
    if len(hex_head) == 2 * HASH_HEAD:
        try:
            return bytes.fromhex(hex_head)
        except ValueError:
            pass
    return hashlib.sha256(payload_hash.encode()).digest()[:HASH_HEAD]


LEGACY_HEAD = 32
"""Hex characters of the payload hash a legacy tombstone (keys.legacy_tombstone) starts with."""

_UPSERT = """
local LEGACY_HEAD = """ + str(LEGACY_HEAD) + """
local base = ARGV[1] .. ':' .. ARGV[2] .. ':'
local at = ARGV[3]
local results = {}
local counted = {}  -- event counters, added once per kind for the batch
local i = 4
while i <= #ARGV do
  local key, hash, upd, status, platform = ARGV[i], ARGV[i+1], tonumber(ARGV[i+2]), ARGV[i+3], ARGV[i+4]
  local doc, raw, err, shop = ARGV[i+5], ARGV[i+6], ARGV[i+7], ARGV[i+8]
  local tombs, field, head = ARGV[i+9], ARGV[i+10], ARGV[i+11]
  i = i + 12
  local okey = base .. 'o:' .. key
  local tlkey = base .. 'tl:' .. key
  local old = redis.call('HMGET', okey, 'hash', 'upd', 'status', 'platform', 'hold')
  local result
  local tomb = (not old[1]) and tombs ~= '' and redis.call('HGET', tombs, field)
  local same = tomb and string.sub(tomb, 1, #head) == head
  if not old[1] and not tomb then  -- LEGACY: archived before the buckets; goes when the last such key expires
    tomb = redis.call('GET', base .. 'tomb:' .. key)
    same = tomb and string.sub(tomb, 1, LEGACY_HEAD) == string.sub(hash, 1, LEGACY_HEAD)
  end
  if tomb then
    result = same and 'ARCHIVED' or 'RELISTED'
  elseif old[1] and old[1] == hash then
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
    counted[kind] = (counted[kind] or 0) + 1
    if err ~= '' then
      if old[5] and old[5] ~= 'INVALID_PAYLOAD' then
        redis.call('SREM', base .. 'holds:' .. old[5], key)
      end
      redis.call('HSET', okey, 'hold', 'INVALID_PAYLOAD', 'hold_detail', err)
      redis.call('SADD', base .. 'holds:INVALID_PAYLOAD', key)
      redis.call('RPUSH', tlkey, cjson.encode({at = at, kind = 'held', detail = 'INVALID_PAYLOAD: ' .. err}))
      counted['held:INVALID_PAYLOAD'] = (counted['held:INVALID_PAYLOAD'] or 0) + 1
    elseif old[5] == 'INVALID_PAYLOAD' then
      redis.call('HDEL', okey, 'hold', 'hold_detail')
      redis.call('SREM', base .. 'holds:INVALID_PAYLOAD', key)
      redis.call('RPUSH', tlkey, cjson.encode({at = at, kind = 'released', detail = 'a valid payload arrived'}))
    end
  end
  table.insert(results, result)
end
for kind, n in pairs(counted) do redis.call('HINCRBY', base .. 'stats:events', kind, n) end
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


class StoreScripts:
    """The store's scripts, registered on one client."""

    def __init__(self, client: redis.Redis) -> None:
        self.upsert = client.register_script(_UPSERT)
        self.hold = client.register_script(_HOLD)
        self.release = client.register_script(_RELEASE)
        self.remember_rows = client.register_script(_REMEMBER_ROWS)
