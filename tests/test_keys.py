"""pipeline/keys.py is the only place a Redis key is spelt, and it spells each one as it always has.

The key strings are stored data: a template that changes strands every key written before it. So
each family is pinned here to its exact string, the families the Lua scripts build for themselves
are checked against what those scripts actually write, and the source tree is searched for key
f-strings written anywhere else (the way templates used to drift apart).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from pipeline import keys
from pipeline.archive.tombstones import tombstone_value
from pipeline.model import HoldReason, StockLevel
from pipeline.stock import Allocation, StockLedger
from pipeline.store import Received
from tests.factories import make_order, received

ROOT = Path(__file__).resolve().parents[1]
P, S, K = "pfx", "acme", "amazon:shop-1:111-2222"

RENDERED = [
    # under the prefix
    (keys.sellers(P), "pfx:sellers"),
    (keys.task_seconds(P), "pfx:stats:task_seconds"),
    (keys.task_seconds_fields("workers.tasks.sync_shop"),
     ("workers.tasks.sync_shop:sum", "workers.tasks.sync_shop:count")),
    (keys.api_calls(P), "pfx:stats:calls"),
    (keys.api_throttles(P), "pfx:stats:throttled"),
    (keys.api_call_field("temu", "list"), "temu:list"),
    (keys.rate_bucket(P, "temu", "shop-1", "list"), "pfx:ratelimit:temu:shop-1:list"),
    (keys.sandbox_endpoints(P), "pfx:sandbox:endpoints"),
    (keys.stock_refusing_shops(P), "pfx:stock:refusing_shops"),
    (tuple(keys.stock_requests(P, S, "shop-1")),
     ("pfx:stock:pending_full:acme:shop-1", "pfx:stock:pending_skus:acme:shop-1", "pfx:stock:queued:acme:shop-1")),
    (keys.sync_lock(P, S, "shop-1"), "pfx:lock:sync:acme:shop-1"),
    (keys.stock_lock(P, S, "shop-1"), "pfx:lock:stock:acme:shop-1"),
    (keys.tracking_lock(P, S, K, "east"), "pfx:lock:tracking:acme:amazon:shop-1:111-2222:east"),
    (keys.resume_resting(P, S), "pfx:resume:resting:acme"),
    (keys.archive_lock(P, S), "pfx:lock:archive:acme"),
    # under the seller
    (keys.seller_base(P, S), "pfx:acme:"),
    (keys.order(P, S, K), "pfx:acme:o:amazon:shop-1:111-2222"),
    (keys.timeline(P, S, K), "pfx:acme:tl:amazon:shop-1:111-2222"),
    (keys.submitted(P, S, K), "pfx:acme:submitted:amazon:shop-1:111-2222"),
    (keys.shipments(P, S, K), "pfx:acme:shipments:amazon:shop-1:111-2222"),
    (keys.tracking_pushed(P, S, K), "pfx:acme:tracking_pushed:amazon:shop-1:111-2222"),
    (keys.tracking_refused(P, S, K), "pfx:acme:tracking_refused:amazon:shop-1:111-2222"),
    (keys.acknowledged(P, S, K), "pfx:acme:acknowledged:amazon:shop-1:111-2222"),
    (keys.route_lock(P, S, K), "pfx:acme:lock:route:amazon:shop-1:111-2222"),
    (keys.allocation(P, S, K), "pfx:acme:stock:alloc:amazon:shop-1:111-2222"),
    (keys.consumed(P, S, K), "pfx:acme:stock:consumed:amazon:shop-1:111-2222"),
    (keys.legacy_tombstone(P, S, K), "pfx:acme:tomb:amazon:shop-1:111-2222"),
    (keys.tombstones(P, S, "amazon", "shop-1", date(2026, 11, 1)), "pfx:acme:tombs:amazon:shop-1:2026-11-01"),
    (keys.tombstones_pattern(P, S), "pfx:acme:tombs:*"),
    (keys.order.pattern(P, S), "pfx:acme:o:*"),
    (keys.status_index(P, S, "amazon", "READY"), "pfx:acme:idx:amazon:READY"),
    (keys.status_index_pattern(P, S), "pfx:acme:idx:*"),
    (keys.status_index_pattern(P, S, "READY"), "pfx:acme:idx:*:READY"),
    (keys.holds(P, S, "UNKNOWN_SKU"), "pfx:acme:holds:UNKNOWN_SKU"),
    (keys.event_counts(P, S), "pfx:acme:stats:events"),
    (keys.cursor(P, S, "shop-1", "orders"), "pfx:acme:cursor:shop-1:orders"),
    (keys.cursor_read_at(P, S, "shop-1", "orders"), "pfx:acme:cursor:shop-1:orders:read_at"),
    (keys.slice_length(P, S, "east", "shipments"), "pfx:acme:cursor:east:shipments:slice"),
    (keys.overlap_slice_length(P, S, "east", "shipments"), "pfx:acme:cursor:east:shipments:slice:overlap"),
    (keys.cursor_pattern(P, S, "orders"), "pfx:acme:cursor:*:orders"),
    (keys.references(P, S), "pfx:acme:references"),
    (keys.tracking_due(P, S, "east"), "pfx:acme:tracking_due:east"),
    (keys.address_refetch(P, S), "pfx:acme:refetch:address"),
    (keys.auth_failed(P, S, "shop-1"), "pfx:acme:shop:shop-1:auth_failed"),
    (keys.webhook_seen(P, S, "shop-1", "ab12"), "pfx:acme:webhook:seen:shop-1:ab12"),
    (keys.webhook_fetch(P, S, "shop-1", "111-2222"), "pfx:acme:webhook:fetch:shop-1:111-2222"),
    (keys.stock_base(P, S), "pfx:acme:stock:"),
    (keys.STOCK_COUNTS, ("onhand", "shipped", "doubt", "reserved")),
    (keys.stock_count(P, S, "onhand", "east"), "pfx:acme:stock:onhand:east"),
    (keys.stock_reported(P, S), "pfx:acme:stock:asof"),
    (keys.allocations(P, S), "pfx:acme:stock:allocs"),
    (keys.stock_pushed(P, S, "shop-1"), "pfx:acme:stock:pushed:shop-1"),
    (keys.stock_refused(P, S, "shop-1"), "pfx:acme:stock:refused:shop-1"),
    (keys.stock_feeds(P, S, "shop-1"), "pfx:acme:stock:feeds:shop-1"),
]


@pytest.mark.parametrize(("rendered", "expected"), RENDERED, ids=[str(e) for _, e in RENDERED])
def test_every_family_renders_the_string_stored_today(rendered, expected):
    assert rendered == expected


def test_keys_read_back_into_what_they_were_built_from():
    assert keys.order.order_key_of(P, S, keys.order(P, S, K)) == K
    assert keys.submitted.order_key_of(P, S, keys.submitted(P, S, K).encode()) == K
    assert keys.cursor_owner(P, S, "orders", keys.cursor(P, S, "shop:1", "orders").encode()) == "shop:1"
    assert keys.parse_status_index(P, S, keys.status_index(P, S, "temu", "PARTIALLY_SHIPPED")) == (
        "temu", "PARTIALLY_SHIPPED")
    assert keys.parse_api_call_field(keys.api_call_field("amazon", "getOrders")) == ("amazon", "getOrders")
    assert keys.task_of_field(keys.task_seconds_fields("workers.tasks.sync_shop")[1]) == "workers.tasks.sync_shop"
    with pytest.raises(ValueError):
        keys.order.order_key_of(P, S, keys.timeline(P, S, K))
    with pytest.raises(ValueError):
        keys.cursor_owner(P, S, "orders", keys.cursor_read_at(P, S, "shop-1", "orders"))


def test_the_keys_the_store_scripts_build_are_the_ones_named_here(store, redis_client, prefix):
    order = make_order(1)
    unmapped = Received(key="amazon:shop-1:ORD-BAD", platform="amazon", shop_id="shop-1", raw=b"{}",
                        payload_hash="h", updated_at=None, error="no id")
    store.upsert("acme", [received(order), unmapped])
    store.hold("acme", order.key, HoldReason.UNKNOWN_SKU, "MUG?")
    for key in (keys.order(prefix, "acme", order.key), keys.timeline(prefix, "acme", order.key),
                keys.status_index(prefix, "acme", "amazon", "READY"), keys.status_index(prefix, "acme", "amazon",
                                                                                       "UNMAPPED"),
                keys.holds(prefix, "acme", "UNKNOWN_SKU"), keys.holds(prefix, "acme", "INVALID_PAYLOAD"),
                keys.event_counts(prefix, "acme"), keys.sellers(prefix)):
        assert redis_client.exists(key), key
    assert redis_client.hget(keys.order(prefix, "acme", order.key), "stage") == b"received"
    assert store.keys("acme") == sorted([order.key, unmapped.key])
    assert store.status_counts("acme") == {("amazon", "READY"): 1, ("amazon", "UNMAPPED"): 1}
    # the upsert reads the tombstone of an order moved to the archive (its shop's and placed day's hash,
    # its external id), and stores nothing for it
    moved = make_order(2)
    redis_client.hset(keys.tombstones(prefix, "acme", "amazon", "shop-1", moved.placed_at.date()), moved.external_id,
                      tombstone_value(received(moved).payload_hash, datetime(2026, 11, 20, tzinfo=UTC)))
    assert store.upsert("acme", [received(moved), received(make_order(2, version=1))]) == ["ARCHIVED", "RELISTED"]
    assert store.get("acme", moved.key) is None
    # ...and still the old kind, one key per order, while the last of those live
    legacy = make_order(3)
    redis_client.set(keys.legacy_tombstone(prefix, "acme", legacy.key), received(legacy).payload_hash[:32] + ":1700000000")
    assert store.upsert("acme", [received(legacy), received(make_order(3, version=1))]) == ["ARCHIVED", "RELISTED"]
    assert store.get("acme", legacy.key) is None


def test_the_keys_the_ledger_scripts_build_are_the_ones_named_here(redis_client, prefix):
    ledger, at = StockLedger(redis_client, prefix), datetime(2026, 3, 1, tzinfo=UTC)
    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG", on_hand=5, as_of=at)], at)
    ledger.reserve("acme", K, [Allocation("east", (("MUG", 2),))])
    ledger.consume("acme", K, "east", "east:ref-1", at + timedelta(hours=1), [("MUG", 1)])
    assert redis_client.hget(keys.stock_count(prefix, "acme", "onhand", "east"), "MUG") == b"5"
    assert redis_client.hget(keys.stock_count(prefix, "acme", "reserved", "east"), "MUG") == b"1"
    assert redis_client.hget(keys.stock_count(prefix, "acme", "shipped", "east"), "MUG") == b"1"
    assert redis_client.sismember(keys.allocations(prefix, "acme"), K)
    assert redis_client.exists(keys.allocation(prefix, "acme", K))
    assert redis_client.sismember(keys.consumed(prefix, "acme", K), "east:ref-1")
    assert redis_client.hexists(keys.stock_reported(prefix, "acme"), "east")


def test_the_keys_the_batch_reservation_builds_are_the_ones_named_here(redis_client, prefix):
    from pipeline.stock_batch import reserve_many

    ledger, at = StockLedger(redis_client, prefix), datetime(2026, 3, 1, tzinfo=UTC)
    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG", on_hand=5, as_of=at)], at)
    reserve_many(ledger, "acme", [(K, [Allocation("east", (("MUG", 2),))])])
    assert redis_client.hget(keys.stock_count(prefix, "acme", "reserved", "east"), "MUG") == b"2"
    assert redis_client.sismember(keys.allocations(prefix, "acme"), K)
    assert redis_client.exists(keys.allocation(prefix, "acme", K))


# --- no key spelt anywhere else -----------------------------------------------------------------

SEARCHED = ("pipeline", "workers", "orderhub", "connectors", "config")
OWNER = Path("pipeline/keys.py")

_F = r"""(?<![\w])[rRbB]?[fF]["'][^"'\n]*"""
KEY_FSTRING = [
    re.compile(_F + r"\{[\w.]*prefix(?:\(\))?\}:"),  # `{prefix}:`, `{store.prefix}:`, `{key_prefix()}:`
    re.compile(_F + r":\{seller\}:"),
    re.compile(_F + r"\{(?:self\._?|store\.|ledger\.)prefix\}"),
    re.compile(_F + r"\{key_prefix\(\)\}"),
    re.compile(r"""\+\s*["']:[\w:]+["']"""),  # a suffix glued on: `key + ":read_at"`
]
KEY_SPLIT = re.compile(r"""\.(?:r?split|r?partition)\(\s*["']:["']""")
"""Taking a key apart by its colons: keys.py and pipeline/identity.py do that for everyone."""


def _lines(folders, skip):
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative not in skip:
                for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                    yield f"{relative}:{number}", line


def test_no_key_f_string_outside_pipeline_keys():
    found = [f"{where}: {line.strip()}" for where, line in _lines(SEARCHED, {OWNER})
             if any(pattern.search(line) for pattern in KEY_FSTRING)]
    assert not found, "Redis keys spelt outside pipeline/keys.py:\n" + "\n".join(found)


def test_nobody_splits_a_key_outside_keys_and_identity():
    found = [f"{where}: {line.strip()}" for where, line in _lines(("pipeline", "workers", "orderhub"),
                                                                  {OWNER, Path("pipeline/identity.py")})
             if KEY_SPLIT.search(line)]
    assert not found, "keys taken apart outside pipeline/keys.py and pipeline/identity.py:\n" + "\n".join(found)


@pytest.mark.parametrize("line", [
    'key = f"{store.prefix}:{seller}:shipments:{order_key}"',
    'return f"{prefix}:{seller}:stock:pushed:{shop_id}"',
    'marker = f"{key_prefix()}:{seller}:acknowledged:{key}"',
    'x = f"{self._prefix}:stats:calls"',
    "lease(r, f'{base}:lock:{seller}:{shop}')",
    'pipe.delete(key + ":read_at")',
])
def test_the_search_catches_the_templates_it_replaced(line):
    assert any(pattern.search(line) for pattern in KEY_FSTRING)


@pytest.mark.parametrize("line", [
    'path = f"{prefix}.{self.path}"',  # a field path in an error message
    '"-n", f"{prefix}@%h",',  # a Celery node name
    'schedule[f"sync:{cfg.seller}:{shop.shop_id}"] = {',  # a beat schedule entry
    '"""Every key lives under `{prefix}:{seller}:`."""',  # prose
])
def test_the_search_leaves_other_strings_alone(line):
    assert not any(pattern.search(line) for pattern in KEY_FSTRING)
