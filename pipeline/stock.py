"""The stock ledger: what each warehouse holds, what routed orders have reserved, never promised twice.

Per (seller, warehouse, seller SKU), in Redis:
    on_hand   units the warehouse reported in its last inventory snapshot (taken at `as_of`), counting
              units still on the shelf for open outbound orders (they have not left the building)
    reserved  units held by routed orders that have not shipped yet
    shipped   units of our shipments that left after the snapshot was taken
    available = on_hand - shipped - reserved

The no-double-count rule: a shipment leaves `reserved` once (guarded by its id) and is logged with
its ship time. A snapshot taken at T already excludes units shipped before T, so applying it drops
the log entries older than T and `shipped` becomes the units shipped after T only. Every mutation
is one Lua script, so concurrent routers can never reserve more than is available.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

import msgspec
import orjson
import redis

from pipeline.model import StockLevel

CLOCK_SKEW = timedelta(seconds=10)
"""How far a warehouse's shipment times may run behind our clock (see StockLedger.apply_snapshot)."""


class Allocation(msgspec.Struct, frozen=True):
    """What one warehouse is to ship for one order."""

    warehouse: str
    lines: tuple[tuple[str, int], ...]  # (seller SKU, quantity)


class Shortfall(msgspec.Struct, frozen=True):
    warehouse: str
    seller_sku: str
    wanted: int
    available: int


# available for one (warehouse, sku): on_hand - shipped - reserved, floored at 0
_AVAILABLE = """
local function available(base, wh, sku)
  local on_hand = tonumber(redis.call('HGET', base .. 'onhand:' .. wh, sku) or '0')
  local shipped = tonumber(redis.call('HGET', base .. 'shipped:' .. wh, sku) or '0')
  local reserved = tonumber(redis.call('HGET', base .. 'reserved:' .. wh, sku) or '0')
  return math.max(0, on_hand - shipped - reserved)
end
"""

_RESERVE = _AVAILABLE + """
local base, order_key = ARGV[1], ARGV[2]
local alloc_key = base .. 'alloc:' .. order_key
local existing = redis.call('GET', alloc_key)
if existing then return {'EXISTS', existing} end
local wanted = cjson.decode(ARGV[3])
local short = {}
for _, w in ipairs(wanted) do
  local free = available(base, w[1], w[2])
  if free < w[3] then table.insert(short, {w[1], w[2], w[3], free}) end
end
if #short > 0 then return {'SHORT', cjson.encode(short)} end
for _, w in ipairs(wanted) do
  redis.call('HINCRBY', base .. 'reserved:' .. w[1], w[2], w[3])
end
redis.call('SET', alloc_key, ARGV[3])
redis.call('SADD', base .. 'allocs', order_key)
return {'OK', ARGV[3]}
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
_CONSUME = """
local base, order_key, wh, shipment_id, shipped_at = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
if redis.call('SADD', base .. 'consumed:' .. order_key, shipment_id) == 0 then return 0 end
local alloc_key = base .. 'alloc:' .. order_key
local alloc = cjson.decode(redis.call('GET', alloc_key) or '[]')
local as_of = tonumber(redis.call('HGET', base .. 'asof', wh) or '0')
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
  if shipped_at > as_of then redis.call('HINCRBY', base .. 'shipped:' .. wh, sku, qty) end
end
if #alloc > 0 then redis.call('SET', alloc_key, cjson.encode(alloc)) end
return 1
"""

# ARGV: base, warehouse, as_of (epoch s), JSON {sku: on_hand}
_SNAPSHOT = """
local base, wh, as_of = ARGV[1], ARGV[2], tonumber(ARGV[3])
local current = tonumber(redis.call('HGET', base .. 'asof', wh) or '0')
if as_of < current then return 0 end
redis.call('DEL', base .. 'onhand:' .. wh)
for sku, units in pairs(cjson.decode(ARGV[4])) do
  redis.call('HSET', base .. 'onhand:' .. wh, sku, units)
end
redis.call('HSET', base .. 'asof', wh, ARGV[3])
local log = base .. 'shiplog:' .. wh
redis.call('ZREMRANGEBYSCORE', log, '-inf', as_of)
redis.call('DEL', base .. 'shipped:' .. wh)
for _, entry in ipairs(redis.call('ZRANGE', log, 0, -1)) do
  local _, _, sku, qty = string.find(entry, '^.*|(.-)|(%d+)$')
  if sku then redis.call('HINCRBY', base .. 'shipped:' .. wh, sku, tonumber(qty)) end
end
return 1
"""


class StockLedger:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.redis = client
        self.prefix = prefix
        self._reserve = client.register_script(_RESERVE)
        self._release = client.register_script(_RELEASE)
        self._consume = client.register_script(_CONSUME)
        self._snapshot = client.register_script(_SNAPSHOT)

    def _base(self, seller: str) -> str:
        return f"{self.prefix}:{seller}:stock:"

    def reserve(self, seller: str, order_key: str, allocations: Sequence[Allocation]
                ) -> tuple[list[Allocation], list[Shortfall], bool]:
        """Reserve every line of every allocation, or nothing; the flag says whether this call made it.
        An order that already holds an allocation gets that one back and reserves nothing more (so a
        retried or duplicated routing is harmless)."""
        merged: dict[tuple[str, str], int] = {}
        for allocation in allocations:
            for sku, qty in allocation.lines:
                merged[(allocation.warehouse, sku)] = merged.get((allocation.warehouse, sku), 0) + qty
        wanted = [[wh, sku, qty] for (wh, sku), qty in merged.items()]
        outcome, payload = self._reserve(keys=[], args=[self._base(seller), order_key, orjson.dumps(wanted)])
        outcome = outcome.decode()
        if outcome == "SHORT":
            return [], [Shortfall(*row) for row in orjson.loads(payload)], False
        return _allocations(orjson.loads(payload)), [], outcome == "OK"

    def allocation(self, seller: str, order_key: str) -> list[Allocation]:
        raw = self.redis.get(f"{self._base(seller)}alloc:{order_key}")
        return _allocations(orjson.loads(raw)) if raw else []

    def release(self, seller: str, order_key: str) -> bool:
        """Give back what an order holds (cancelled, held, or re-routed)."""
        return bool(self._release(keys=[], args=[self._base(seller), order_key]))

    def consume(self, seller: str, order_key: str, warehouse: str, shipment_id: str, shipped_at: datetime,
                lines: Iterable[tuple[str, int]]) -> bool:
        """A shipment left the warehouse; False when this shipment was already counted."""
        return bool(self._consume(keys=[], args=[self._base(seller), order_key, warehouse, shipment_id,
                                                 shipped_at.timestamp(), orjson.dumps([list(x) for x in lines])]))

    def apply_snapshot(self, seller: str, warehouse: str, levels: Sequence[StockLevel], as_of: datetime) -> bool:
        """Replace on-hand with a warehouse inventory report; an older report than the last is ignored.

        The report is filed CLOCK_SKEW before `as_of`: shipment times come from the warehouse's
        clock, and a shipment stamped just before our `as_of` may still be missing from the report
        (its clock lags ours, or its inventory trails its shipments). Counting such a shipment twice
        for a few seconds under-reports stock; dropping it would oversell (found by the chaos run)."""
        units = {level.seller_sku: level.on_hand for level in levels if level.warehouse == warehouse}
        filed = as_of - CLOCK_SKEW
        return bool(self._snapshot(keys=[], args=[self._base(seller), warehouse, filed.timestamp(),
                                                  orjson.dumps(units) if units else b"{}"]))

    def view(self, seller: str, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Available units for each (warehouse, SKU), read in one round trip."""
        pairs = list(dict.fromkeys(pairs))
        base = self._base(seller)
        pipe = self.redis.pipeline(transaction=False)
        for wh, sku in pairs:
            pipe.hget(f"{base}onhand:{wh}", sku)
            pipe.hget(f"{base}shipped:{wh}", sku)
            pipe.hget(f"{base}reserved:{wh}", sku)
        values = [int(v or 0) for v in pipe.execute()]
        return {pair: max(0, values[3 * i] - values[3 * i + 1] - values[3 * i + 2]) for i, pair in enumerate(pairs)}

    def available_all(self, seller: str, warehouses: Iterable[str]) -> dict[tuple[str, str], int]:
        """Available units of every SKU the given warehouses know, three HGETALLs per warehouse."""
        base = self._base(seller)
        warehouses = list(warehouses)
        pipe = self.redis.pipeline(transaction=False)
        for wh in warehouses:
            for kind in ("onhand", "shipped", "reserved"):
                pipe.hgetall(f"{base}{kind}:{wh}")
        replies = pipe.execute()
        available: dict[tuple[str, str], int] = {}
        for i, wh in enumerate(warehouses):
            on_hand, shipped, reserved = replies[3 * i:3 * i + 3]
            for sku in {*on_hand, *shipped, *reserved}:
                units = int(on_hand.get(sku, 0)) - int(shipped.get(sku, 0)) - int(reserved.get(sku, 0))
                available[(wh, sku.decode())] = max(0, units)
        return available

    def totals(self, seller: str, warehouse: str) -> dict[str, dict[str, int]]:
        """on_hand, shipped and reserved per SKU of one warehouse (for checks and `orderhub stock show`)."""
        base = self._base(seller)
        on_hand, shipped, reserved = (self.redis.hgetall(f"{base}{kind}:{warehouse}")
                                      for kind in ("onhand", "shipped", "reserved"))
        skus = {k.decode() for k in (*on_hand, *shipped, *reserved)}
        return {sku: {"on_hand": int(on_hand.get(sku.encode(), 0)), "shipped": int(shipped.get(sku.encode(), 0)),
                      "reserved": int(reserved.get(sku.encode(), 0))} for sku in sorted(skus)}


def _allocations(rows: list[list]) -> list[Allocation]:
    by_wh: dict[str, list[tuple[str, int]]] = {}
    for wh, sku, qty in rows:
        by_wh.setdefault(wh, []).append((sku, int(qty)))
    return [Allocation(wh, tuple(lines)) for wh, lines in by_wh.items()]
