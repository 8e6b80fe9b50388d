"""Reserve the decisions of a routing batch in one Lua script.

Why: reserved one script per order, each read four counts per SKU and warehouse and wrote the
reservation per line: some ten commands per order. Here one script takes every order of
the batch, reads each (warehouse, SKU) once, keeps what it has reserved so far in the script, and
adds each SKU's reservations to its counter once; per order there is only its allocation (read,
written) and its place in the allocation index. Each order is still all or nothing, and the script
is atomic, so no unit is ever promised twice; an order that already holds an
allocation gets it back. `StockLedger.reserve` is this script with one order.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from pipeline.stock import _AVAILABLE, Allocation, Shortfall, StockLedger, allocations_of, wanted_rows

# ARGV: base, then (order key, JSON [[warehouse, sku, qty], ...]) per order.
# Returns per order {'OK'|'EXISTS'|'SHORT', JSON}, as the single reservation does.
_RESERVE_MANY = _AVAILABLE + """
local base = ARGV[1]
local free, added, order, allocs, out = {}, {}, {}, {}, {}
for i = 2, #ARGV, 2 do
  local order_key, wanted_json = ARGV[i], ARGV[i + 1]
  local alloc_key = base .. 'alloc:' .. order_key
  local existing = redis.call('GET', alloc_key)
  if existing then
    table.insert(out, {'EXISTS', existing})
  else
    local wanted = cjson.decode(wanted_json)
    local short = {}
    for _, w in ipairs(wanted) do
      local pair = w[1] .. '\\0' .. w[2]
      if free[pair] == nil then free[pair] = available(base, w[1], w[2]) end
      if free[pair] < w[3] then table.insert(short, {w[1], w[2], w[3], free[pair]}) end
    end
    if #short > 0 then
      table.insert(out, {'SHORT', cjson.encode(short)})
    else
      for _, w in ipairs(wanted) do
        local pair = w[1] .. '\\0' .. w[2]
        free[pair] = free[pair] - w[3]
        if added[pair] == nil then added[pair] = 0; table.insert(order, {pair, w[1], w[2]}) end
        added[pair] = added[pair] + w[3]
      end
      redis.call('SET', alloc_key, wanted_json)
      table.insert(allocs, order_key)
      table.insert(out, {'OK', wanted_json})
    end
  end
end
for _, p in ipairs(order) do
  redis.call('HINCRBY', base .. 'reserved:' .. p[2], p[3], added[p[1]])
end
for i = 1, #allocs, 500 do
  redis.call('SADD', base .. 'allocs', unpack(allocs, i, math.min(i + 499, #allocs)))
end
return out
"""


def reserve_many(ledger: StockLedger, seller: str, wanted: Sequence[tuple[str, Sequence[Allocation]]]
                 ) -> list[tuple[list[Allocation], list[Shortfall], bool]]:
    """The reservation of each (order key, allocations), in one script, in the order given: all of an order's
    lines or none, and an order already holding an allocation gets it back (the flag: this call made it)."""
    if not wanted:
        return []
    args: list[object] = [ledger._base(seller)]
    for order_key, allocations in wanted:
        args += [order_key, orjson.dumps(wanted_rows(allocations))]
    script = ledger.redis.register_script(_RESERVE_MANY)
    results = []
    for outcome, payload in script(keys=[], args=args):
        outcome = outcome.decode() if isinstance(outcome, bytes) else outcome
        if outcome == "SHORT":
            results.append(([], [Shortfall(*row) for row in orjson.loads(payload)], False))
        else:
            results.append((allocations_of(orjson.loads(payload)), [], outcome == "OK"))
    return results
