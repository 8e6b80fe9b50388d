"""The stock ledger: what each warehouse holds, what routed orders have reserved, never promised twice.

Per (seller, warehouse, seller SKU), in Redis:
    on_hand   units the warehouse reported in its last inventory snapshot, counting units still on
              the shelf for open outbound orders (they have not left the building)
    reserved  units held by routed orders that have not shipped yet
    shipped   units of our shipments that certainly left after the snapshot was taken
    in_doubt  units of our shipments stamped so close to the snapshot that it may or may not count
              them (the warehouse's clock is not ours, and a report takes time to read)
    available = on_hand - shipped - in_doubt - reserved

The no-double-count rule: a shipment leaves `reserved` once (guarded by its id) and is logged with
its ship time. A snapshot read between `as_of` and `until` already excludes units shipped well
before `as_of`, so applying it drops those log entries; entries within CLOCK_SKEW of the reading
are in doubt, the rest are `shipped`. Subtracting the doubtful ones errs towards selling less until
the next snapshot settles them, and keeps `reserved + shipped <= on_hand` true whichever way the
report counted them. Every mutation is one Lua script, so concurrent routers can never reserve
more than is available; the scripts build their keys from `keys.stock_base` (pipeline/keys.py names
the families).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import msgspec
import orjson
import redis

from pipeline import keys
from pipeline.model import StockLevel

CLOCK_SKEW = timedelta(seconds=10)
"""How far a warehouse's shipment stamps may sit from our clock and still be in doubt against a report."""


class Allocation(msgspec.Struct, frozen=True):
    """What one warehouse is to ship for one order."""

    warehouse: str
    lines: tuple[tuple[str, int], ...]  # (seller SKU, quantity)


class Shortfall(msgspec.Struct, frozen=True):
    warehouse: str
    seller_sku: str
    wanted: int
    available: int


# available for one (warehouse, sku): on_hand - shipped - in doubt - reserved, floored at 0
# `window` is where a shipment stamp falls against the last snapshot: 'before', 'doubt' or 'after'
_AVAILABLE = """
local function available(base, wh, sku)
  local on_hand = tonumber(redis.call('HGET', base .. 'onhand:' .. wh, sku) or '0')
  local shipped = tonumber(redis.call('HGET', base .. 'shipped:' .. wh, sku) or '0')
  local doubt = tonumber(redis.call('HGET', base .. 'doubt:' .. wh, sku) or '0')
  local reserved = tonumber(redis.call('HGET', base .. 'reserved:' .. wh, sku) or '0')
  return math.max(0, on_hand - shipped - doubt - reserved)
end

local function window(base, wh, stamp)
  local lo = tonumber(redis.call('HGET', base .. 'asof', wh) or '0')
  local hi = tonumber(redis.call('HGET', base .. 'until', wh) or '0')
  local skew = tonumber(redis.call('HGET', base .. 'skew', wh) or '0')
  if stamp <= lo - skew then return 'before' end
  if stamp <= hi + skew then return 'doubt' end
  return 'after'
end
"""

_RELEASE = """
local base, order_key = ARGV[1], ARGV[2]
local alloc_key = base .. 'alloc:' .. order_key
local existing = redis.call('GET', alloc_key)
if not existing then return 0 end
for _, w in ipairs(cjson.decode(existing)) do
  if w[3] > 0 then redis.call('HINCRBY', base .. 'reserved:' .. w[1], w[2], -w[3]) end
end
redis.call('DEL', alloc_key)
redis.call('SREM', base .. 'allocs', order_key)
return 1
"""

# ARGV: base, order key, warehouse, shipment id, shipped_at (epoch s), JSON [[sku, qty], ...]
_CONSUME = _AVAILABLE + """
local base, order_key, wh, shipment_id, shipped_at = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
if redis.call('SADD', base .. 'consumed:' .. order_key, shipment_id) == 0 then return 0 end
local alloc_key = base .. 'alloc:' .. order_key
local alloc = cjson.decode(redis.call('GET', alloc_key) or '[]')
local where = window(base, wh, shipped_at)
for _, line in ipairs(cjson.decode(ARGV[6])) do
  local sku, qty = line[1], line[2]
  for _, w in ipairs(alloc) do
    if w[1] == wh and w[2] == sku and w[3] > 0 then
      local take = math.min(w[3], qty)
      w[3] = w[3] - take
      redis.call('HINCRBY', base .. 'reserved:' .. wh, sku, -take)
    end
  end
  redis.call('ZADD', base .. 'shiplog:' .. wh, shipped_at, shipment_id .. '|' .. sku .. '|' .. qty)
  if where == 'after' then redis.call('HINCRBY', base .. 'shipped:' .. wh, sku, qty) end
  if where == 'doubt' then redis.call('HINCRBY', base .. 'doubt:' .. wh, sku, qty) end
end
if #alloc > 0 then redis.call('SET', alloc_key, cjson.encode(alloc)) end
return 1
"""

# ARGV: base, warehouse, as_of, until, skew (epoch s, s), JSON {sku: on_hand}
_SNAPSHOT = _AVAILABLE + """
local base, wh, as_of = ARGV[1], ARGV[2], tonumber(ARGV[3])
local current = tonumber(redis.call('HGET', base .. 'asof', wh) or '0')
if as_of < current then return 0 end
redis.call('DEL', base .. 'onhand:' .. wh)
for sku, units in pairs(cjson.decode(ARGV[6])) do
  redis.call('HSET', base .. 'onhand:' .. wh, sku, units)
end
redis.call('HSET', base .. 'asof', wh, ARGV[3])
redis.call('HSET', base .. 'until', wh, ARGV[4])
redis.call('HSET', base .. 'skew', wh, ARGV[5])
local log = base .. 'shiplog:' .. wh
redis.call('ZREMRANGEBYSCORE', log, '-inf', as_of - tonumber(ARGV[5]))
redis.call('DEL', base .. 'shipped:' .. wh, base .. 'doubt:' .. wh)
local rows = redis.call('ZRANGE', log, 0, -1, 'WITHSCORES')
for i = 1, #rows, 2 do
  local _, _, sku, qty = string.find(rows[i], '^.*|(.-)|(%d+)$')
  local kind = window(base, wh, tonumber(rows[i + 1])) == 'after' and 'shipped:' or 'doubt:'
  if sku then redis.call('HINCRBY', base .. kind .. wh, sku, tonumber(qty)) end
end
return 1
"""


class StockLedger:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.redis = client
        self.prefix = prefix
        self._release = client.register_script(_RELEASE)
        self._consume = client.register_script(_CONSUME)
        self._snapshot = client.register_script(_SNAPSHOT)

    def _base(self, seller: str) -> str:
        return keys.stock_base(self.prefix, seller)

    def reserve(self, seller: str, order_key: str, allocations: Sequence[Allocation]
                ) -> tuple[list[Allocation], list[Shortfall], bool]:
        """Reserve every line of every allocation, or nothing; the flag says whether this call made it.
        An order that already holds an allocation gets that one back and reserves nothing more (so a
        retried or duplicated routing is harmless)."""
        from pipeline.stock_batch import reserve_many  # one reservation script, built on this module

        return reserve_many(self, seller, [(order_key, allocations)])[0]

    def allocation(self, seller: str, order_key: str) -> list[Allocation]:
        raw = self.redis.get(keys.allocation(self.prefix, seller, order_key))
        return allocations_of(orjson.loads(raw)) if raw else []

    def release(self, seller: str, order_key: str) -> bool:
        """Give back what an order holds (cancelled, held, or re-routed)."""
        return bool(self._release(keys=[], args=[self._base(seller), order_key]))

    def consume(self, seller: str, order_key: str, warehouse: str, shipment_id: str, shipped_at: datetime,
                lines: Iterable[tuple[str, int]]) -> bool:
        """A shipment left the warehouse; False when this shipment was already counted."""
        return bool(self._consume(keys=[], args=[self._base(seller), order_key, warehouse, shipment_id,
                                                 shipped_at.timestamp(), orjson.dumps([list(x) for x in lines])]))

    def apply_snapshot(self, seller: str, warehouse: str, levels: Sequence[StockLevel], as_of: datetime,
                       until: datetime | None = None) -> bool:
        """Replace on-hand with a warehouse inventory report read from `as_of` to `until` (our clock);
        an older report than the last is ignored.

        Shipments stamped within CLOCK_SKEW of that reading may or may not be in the report (the
        warehouse's clock is not ours, and its inventory may trail its shipments), so they are held
        in doubt rather than guessed: guessing "in" oversold a unit in the chaos run, guessing "out"
        counted units twice and broke the ledger's own balance."""
        units = {level.seller_sku: level.on_hand for level in levels if level.warehouse == warehouse}
        until = max(as_of, until or as_of)
        return bool(self._snapshot(keys=[], args=[self._base(seller), warehouse, as_of.timestamp(), until.timestamp(),
                                                  CLOCK_SKEW.total_seconds(),
                                                  orjson.dumps(units) if units else b"{}"]))

    def view(self, seller: str, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Available units for each (warehouse, SKU), read in one round trip: one HMGET per count and
        warehouse for all its SKUs, not four HGETs per pair (a batch of orders, a stock push of many
        SKUs costs a few commands, not four per SKU and warehouse)."""
        by_wh: dict[str, list[str]] = {}
        for wh, sku in dict.fromkeys(pairs):
            by_wh.setdefault(wh, []).append(sku)
        if not by_wh:
            return {}
        pipe = self.redis.pipeline(transaction=False)
        for wh, skus in by_wh.items():
            for kind in _KINDS:
                pipe.hmget(keys.stock_count(self.prefix, seller, kind, wh), skus)
        replies, n = pipe.execute(), len(_KINDS)
        return {(wh, sku): _available([r[j] or 0 for r in replies[n * i:n * i + n]])
                for i, (wh, skus) in enumerate(by_wh.items()) for j, sku in enumerate(skus)}

    def view_bulk(self, seller: str, warehouses: Sequence[str], skus: Iterable[str]) -> dict[tuple[str, str], int]:
        """`view` of every SKU at every one of `warehouses` (a routing batch reads its SKUs once)."""
        skus = list(dict.fromkeys(skus))
        return self.view(seller, [(wh, sku) for wh in warehouses for sku in skus])

    def allocation_many(self, seller: str, order_keys: Sequence[str], pipe: redis.client.Pipeline) -> None:
        """Queue `allocation`'s read of each order on `pipe`; `allocations_of_raw` decodes each reply."""
        for order_key in order_keys:
            pipe.get(keys.allocation(self.prefix, seller, order_key))

    def available_all(self, seller: str, warehouses: Iterable[str]) -> dict[tuple[str, str], int]:
        """Available units of every SKU the given warehouses know, four HGETALLs per warehouse."""
        warehouses = list(warehouses)
        pipe = self.redis.pipeline(transaction=False)
        for wh in warehouses:
            for kind in _KINDS:
                pipe.hgetall(keys.stock_count(self.prefix, seller, kind, wh))
        replies, n = pipe.execute(), len(_KINDS)
        available: dict[tuple[str, str], int] = {}
        for i, wh in enumerate(warehouses):
            hashes = replies[n * i:n * i + n]
            for sku in set().union(*hashes):
                available[(wh, sku.decode())] = _available([h.get(sku, 0) for h in hashes])
        return available

    def reported(self, seller: str) -> set[str]:
        """The warehouses whose inventory has been read at least once (routing waits for them)."""
        return {wh.decode() for wh in self.redis.hkeys(keys.stock_reported(self.prefix, seller))}

    def totals(self, seller: str, warehouse: str) -> dict[str, dict[str, int]]:
        """on_hand, shipped, in_doubt and reserved per SKU of one warehouse (for checks and `orderhub stock show`)."""
        hashes = [self.redis.hgetall(keys.stock_count(self.prefix, seller, kind, warehouse)) for kind in _KINDS]
        return {sku.decode(): {name: int(h.get(sku, 0)) for name, h in zip(_TOTALS, hashes, strict=True)}
                for sku in sorted(set().union(*hashes))}


_KINDS = keys.STOCK_COUNTS
_TOTALS = ("on_hand", "shipped", "in_doubt", "reserved")


def available_of(on_hand: int, shipped: int, in_doubt: int, reserved: int) -> int:
    """Units free to route: on hand less shipped since the report, in doubt and reserved (never below 0).
    The ledger's scripts compute the same (keep them in step)."""
    return max(0, on_hand - shipped - in_doubt - reserved)


def _available(counts: Sequence[int | bytes]) -> int:
    on_hand, shipped, doubt, reserved = (int(c) for c in counts)
    return available_of(on_hand, shipped, doubt, reserved)


def wanted_rows(allocations: Iterable[Allocation]) -> list[list]:
    """[[warehouse, sku, qty], ...] of allocations, one row per (warehouse, SKU): what a reservation stores."""
    merged: dict[tuple[str, str], int] = {}
    for allocation in allocations:
        for sku, qty in allocation.lines:
            merged[(allocation.warehouse, sku)] = merged.get((allocation.warehouse, sku), 0) + qty
    return [[wh, sku, qty] for (wh, sku), qty in merged.items()]


def allocations_of_raw(raw: bytes | None) -> list[Allocation]:
    return allocations_of(orjson.loads(raw)) if raw else []


def allocations_of(rows: Iterable[Sequence]) -> list[Allocation]:
    """keys.allocation's rows [[warehouse, sku, qty], ...] as one Allocation per warehouse."""
    by_wh: dict[str, list[tuple[str, int]]] = {}
    for wh, sku, qty in rows:
        by_wh.setdefault(wh, []).append((sku, int(qty)))
    return [Allocation(wh, tuple(lines)) for wh, lines in by_wh.items()]
