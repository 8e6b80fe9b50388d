"""Every Redis key Orderhub writes, in one place: the templates, and the few reads of a key back.

The key strings are Orderhub's storage format: a running Redis holds data under them, and a
template spelt out by hand in two modules drifts (a reader that SCANs for a pattern the writer no
longer makes finds nothing, and nobody is told). So the templates live here and nowhere else;
tests/test_keys.py pins each family to its exact string and fails on a key f-string written in any
other module. Changing a string here is a data migration, not a refactor.

Layout. Everything is under the key prefix (`orderhub`, or a test run's or a demo's own). What
belongs to one seller is under `{prefix}:{seller}:`, so sellers never collide; a few families are
under the prefix alone: the set of sellers, the stats hashes, the API rate buckets, the sandbox
endpoints, the shops with refused stock pushes, the stock push requests and the sync, stock,
tracking and archive leases (these four name the seller after their family; they predate the per-seller layout
and keep their strings for the data and leases already out there).

Lua builds some keys itself, from a base passed in ARGV (a script cannot call Python), and those
scripts are left as they are; their families must keep the templates below:
    pipeline/store_scripts.py `_UPSERT`  order, timeline, status_index, holds, event_counts, sellers,
        legacy_tombstone (read only); it reads `tombstones` too, from a key passed per item (an archived
        order listed again is not stored)
    pipeline/archive/take_out.py `_TAKE_OUT`  status_index and holds from the base; the per-order families
        from their heads (`family(prefix, seller, "")`, passed in ARGV) and every other key passed whole
    pipeline/archive/build.py `_READ`, pipeline/archive/closing.py `_QUIET`  (read only) the per-order
        families from their heads, passed in ARGV
    pipeline/store_scripts.py `_HOLD`, `_RELEASE`  holds, event_counts (order and timeline come in KEYS)
    pipeline/stock.py scripts  from stock_base: stock_count (onhand, shipped, doubt, reserved),
        allocation, allocations, consumed, `shiplog:{warehouse}`, and the `asof`, `until` and `skew`
        hashes (stock_reported is `asof`); pipeline/stock_batch.py `_RESERVE_MANY` the same (a batch's
        reservations: stock_count, allocation, allocations)
tests/test_keys.py runs those scripts and checks that the keys they made are the ones named here.

Not here: Celery's (kombu's) own keys, the queue lists and `unacked`.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

# --- under the prefix, shared by every seller ---------------------------------------------------


def sellers(prefix: str) -> str:
    """Set of the sellers with an order stored (the upsert script adds to it)."""
    return f"{prefix}:sellers"


def task_seconds(prefix: str) -> str:
    """Hash of Celery task durations: `{task}:sum` and `{task}:count` fields (task_seconds_fields)."""
    return f"{prefix}:stats:task_seconds"


def task_seconds_fields(task: str) -> tuple[str, str]:
    """The (sum, count) fields of one task in the task_seconds hash."""
    return f"{task}:sum", f"{task}:count"


def task_cpu_seconds(prefix: str) -> str:
    """Hash of Celery task CPU seconds (the pool process's own), by task name: where a worker's CPU goes."""
    return f"{prefix}:stats:task_cpu"


def task_of_field(field: str) -> str:
    """The task a task_seconds field belongs to (task names hold dots, not colons)."""
    return field.rsplit(":", 1)[0]


def api_calls(prefix: str) -> str:
    """Hash of API calls let through, by api_call_field (the rate bucket script counts into it)."""
    return f"{prefix}:stats:calls"


def api_throttles(prefix: str) -> str:
    """Hash of throttled API responses, by api_call_field."""
    return f"{prefix}:stats:throttled"


def api_call_field(platform: str, operation: str) -> str:
    """The field of one platform operation in the api_calls and api_throttles hashes."""
    return f"{platform}:{operation}"


def parse_api_call_field(field: str) -> tuple[str, str]:
    """(platform, operation) of an api_call_field."""
    platform, _, operation = field.partition(":")
    return platform, operation


def rate_bucket(prefix: str, platform: str, account: str, operation: str) -> str:
    """Token bucket of one platform operation for one account (connectors/ratelimit.py)."""
    return f"{prefix}:ratelimit:{platform}:{account}:{operation}"


def sandbox_endpoints(prefix: str) -> str:
    """Hash of emulator name -> URL, written by `orderhub sandbox serve` and the demo."""
    return f"{prefix}:sandbox:endpoints"


def stock_refusing_shops(prefix: str) -> str:
    """Set of the stock_refused hashes that ever held a refusal (the metrics exporter reads those)."""
    return f"{prefix}:stock:refusing_shops"


class StockRequests(NamedTuple):
    """The keys through which a shop's stock push is asked for (pipeline/stock_requests.py)."""

    full: str  # a full push is wanted
    skus: str  # set of the SKUs an urgent push wants
    queued: str  # a push task is queued and has not started


def stock_requests(prefix: str, seller: str, shop_id: str) -> StockRequests:
    return StockRequests(f"{prefix}:stock:pending_full:{seller}:{shop_id}",
                         f"{prefix}:stock:pending_skus:{seller}:{shop_id}",
                         f"{prefix}:stock:queued:{seller}:{shop_id}")


def sync_lock(prefix: str, seller: str, shop_id: str) -> str:
    """Lease: one order sync of a shop at a time."""
    return f"{prefix}:lock:sync:{seller}:{shop_id}"


def stock_lock(prefix: str, seller: str, shop_id: str) -> str:
    """Lease: one stock push of a shop at a time."""
    return f"{prefix}:lock:stock:{seller}:{shop_id}"


def tracking_lock(prefix: str, seller: str, order_key: str, warehouse: str) -> str:
    """Lease: one tracking push of a shipment at a time."""
    return f"{prefix}:lock:tracking:{seller}:{order_key}:{warehouse}"


def archive_lock(prefix: str, seller: str) -> str:
    """Lease: one move of a seller's closed orders to the archive at a time (workers/archive.py)."""
    return f"{prefix}:lock:archive:{seller}"


def resume_resting(prefix: str, seller: str) -> str:
    """Set while a seller's stalled-order sweep rests (workers/ingest.py `resume_stalled`)."""
    return f"{prefix}:resume:resting:{seller}"


# --- under {prefix}:{seller}: ------------------------------------------------------------------


def seller_base(prefix: str, seller: str) -> str:
    """What every key of one seller starts with (passed to the store's Lua as the base)."""
    return f"{prefix}:{seller}:"


class PerOrder:
    """A family with one key per order: `{prefix}:{seller}:{name}:{order_key}`."""

    __slots__ = ("name", "what")

    def __init__(self, name: str, what: str) -> None:
        self.name, self.what = name, what

    def __call__(self, prefix: str, seller: str, order_key: str) -> str:
        return f"{prefix}:{seller}:{self.name}:{order_key}"

    def pattern(self, prefix: str, seller: str) -> str:
        """SCAN pattern of every key of the family for one seller."""
        return self(prefix, seller, "*")

    def order_key_of(self, prefix: str, seller: str, key: str | bytes) -> str:
        """The order key a key of this family is for."""
        text = key.decode() if isinstance(key, bytes) else key
        head = self(prefix, seller, "")
        if not text.startswith(head):
            raise ValueError(f"not a {self.name} key of seller {seller}: {text!r}")
        return text[len(head):]

    def __repr__(self) -> str:
        return f"PerOrder({self.name!r})"


order = PerOrder("o", "hash of the stored order (doc, raw, hash, status, stage, hold, row...)")
timeline = PerOrder("tl", "list of the order's timeline events (JSON)")
submitted = PerOrder("submitted", "hash of warehouse -> Submission JSON (pipeline/submissions.py)")
shipments = PerOrder("shipments", "hash of warehouse -> recorded Shipment JSON")
tracking_pushed = PerOrder("tracking_pushed", "set of the warehouses whose tracking the platform accepted")
tracking_refused = PerOrder("tracking_refused", "hash of warehouse -> the platform's refusal")
acknowledged = PerOrder("acknowledged", "set once the platform took the acknowledgement")
route_lock = PerOrder("lock:route", "lease: one router of the order at a time")
allocation = PerOrder("stock:alloc", "the order's reservation, JSON [[warehouse, sku, qty], ...] (Lua)")
consumed = PerOrder("stock:consumed", "set of the shipment ids counted out of the ledger (Lua)")
legacy_tombstone = PerOrder("tomb", "LEGACY, read only: the tombstone of an order archived before `tombstones`, "
                                    "`{32 hex of its hash}:{archived at}`, expiring (the upsert script reads it)")
"""No longer written: an order archived before tombstones were bucketed is recognised by this key until
it expires (retention.tombstone_days after its move); then this family and its reads can go."""


def tombstones(prefix: str, seller: str, platform: str, shop_id: str, placed_day: date) -> str:
    """Hash of the tombstones of one shop's orders placed on one UTC day and moved to the archive:
    external id -> 12 bytes (payload hash head, archive time), the whole hash expiring together
    (pipeline/archive/tombstones.py). One key per shop and day, not per order: a key of its own with an
    expiry cost an order ~200 B of Redis memory, a field in a shared hash ~75-90 B."""
    return f"{prefix}:{seller}:tombs:{platform}:{shop_id}:{placed_day.isoformat()}"


def tombstones_pattern(prefix: str, seller: str) -> str:
    """SCAN pattern of every tombstone hash of a seller."""
    return f"{prefix}:{seller}:tombs:*"


def status_index(prefix: str, seller: str, platform: str, status: str) -> str:
    """Set of the order keys stored with a platform status (UNMAPPED included); the upsert keeps it."""
    return f"{prefix}:{seller}:idx:{platform}:{status}"


def status_index_pattern(prefix: str, seller: str, status: str | None = None) -> str:
    """SCAN pattern of a seller's status indexes: all of them, or those of one status."""
    base = seller_base(prefix, seller)
    return f"{base}idx:*" if status is None else f"{base}idx:*:{status}"


def parse_status_index(prefix: str, seller: str, key: str) -> tuple[str, str]:
    """(platform, status) of a status_index key."""
    platform, _, status = key[len(seller_base(prefix, seller)) + len("idx:"):].partition(":")
    return platform, status


def holds(prefix: str, seller: str, reason: str) -> str:
    """Set of the order keys held for one reason."""
    return f"{prefix}:{seller}:holds:{reason}"


def event_counts(prefix: str, seller: str) -> str:
    """Hash of timeline event kind (and `held:REASON`) -> how often it happened."""
    return f"{prefix}:{seller}:stats:events"


def cursor(prefix: str, seller: str, owner: str, stream: str) -> str:
    """How far a stream has been read: `owner` is a shop id (stream `orders`) or a warehouse id (`shipments`)."""
    return f"{prefix}:{seller}:cursor:{owner}:{stream}"


def cursor_read_at(prefix: str, seller: str, owner: str, stream: str) -> str:
    """When the run that last moved the cursor started."""
    return cursor(prefix, seller, owner, stream) + ":read_at"


def slice_length(prefix: str, seller: str, owner: str, stream: str) -> str:
    """Seconds of the next slice of new ground (pipeline/windows.py SliceHint)."""
    return cursor(prefix, seller, owner, stream) + ":slice"


def overlap_slice_length(prefix: str, seller: str, owner: str, stream: str) -> str:
    """Seconds of the next slice of the overlap, read again (SliceHint); expires."""
    return slice_length(prefix, seller, owner, stream) + ":overlap"


def cursor_pattern(prefix: str, seller: str, stream: str) -> str:
    """SCAN pattern of a seller's cursors of one stream."""
    return cursor(prefix, seller, "*", stream)


def cursor_owner(prefix: str, seller: str, stream: str, key: str | bytes) -> str:
    """The owner (shop or warehouse id) a cursor key is for."""
    text = key.decode() if isinstance(key, bytes) else key
    head, _, tail = cursor(prefix, seller, "\0", stream).partition("\0")
    if not (text.startswith(head) and text.endswith(tail) and len(text) > len(head) + len(tail)):
        raise ValueError(f"not a {stream} cursor of seller {seller}: {text!r}")
    return text[len(head):len(text) - len(tail)]


def references(prefix: str, seller: str) -> str:
    """Hash of outbound reference -> order key (pipeline/identity.py owns what goes in)."""
    return f"{prefix}:{seller}:references"


def tracking_due(prefix: str, seller: str, warehouse: str) -> str:
    """Sorted set of the order keys with a shipment from `warehouse` whose tracking is not settled."""
    return f"{prefix}:{seller}:tracking_due:{warehouse}"


def address_refetch(prefix: str, seller: str) -> str:
    """Hash of order key -> re-fetch attempts and next due time (pipeline/withheld.py)."""
    return f"{prefix}:{seller}:refetch:address"


def auth_failed(prefix: str, seller: str, shop_id: str) -> str:
    """Set when a shop's credentials failed: its sync stops until `orderhub sync now` (pipeline/shop_health.py)."""
    return f"{prefix}:{seller}:shop:{shop_id}:auth_failed"


def webhook_seen(prefix: str, seller: str, shop_id: str, digest: str) -> str:
    """Set, expiring, once a push to the shop was enqueued; `digest` hashes its notification id or signature.
    A repeat is answered without a fetch (pipeline/push_guard.py)."""
    return f"{prefix}:{seller}:webhook:seen:{shop_id}:{digest}"


def webhook_fetch(prefix: str, seller: str, shop_id: str, external_id: str) -> str:
    """Set for a few seconds once a push's fetch of the order was enqueued: another push's is coalesced."""
    return f"{prefix}:{seller}:webhook:fetch:{shop_id}:{external_id}"


# The stock ledger (pipeline/stock.py): its scripts build these from stock_base.

STOCK_COUNTS = ("onhand", "shipped", "doubt", "reserved")
"""The per-warehouse hashes of the ledger, SKU -> units (see pipeline/stock.py)."""


def stock_base(prefix: str, seller: str) -> str:
    """What every stock ledger key of a seller starts with (passed to the ledger's Lua as the base)."""
    return f"{prefix}:{seller}:stock:"


def stock_count(prefix: str, seller: str, kind: str, warehouse: str) -> str:
    """One of the STOCK_COUNTS hashes of one warehouse."""
    return f"{stock_base(prefix, seller)}{kind}:{warehouse}"


def stock_reported(prefix: str, seller: str) -> str:
    """Hash of warehouse -> when its last inventory snapshot was taken (`asof`)."""
    return f"{stock_base(prefix, seller)}asof"


def allocations(prefix: str, seller: str) -> str:
    """Set of the order keys holding a reservation (Lua)."""
    return f"{stock_base(prefix, seller)}allocs"


def stock_pushed(prefix: str, seller: str, shop_id: str) -> str:
    """Hash of a shop's platform SKU -> the number the platform last accepted."""
    return f"{prefix}:{seller}:stock:pushed:{shop_id}"


def stock_refused(prefix: str, seller: str, shop_id: str) -> str:
    """Hash of a shop's platform SKU -> the platform's refusal (pipeline/stock_refusals.py)."""
    return f"{prefix}:{seller}:stock:refused:{shop_id}"


def stock_feeds(prefix: str, seller: str, shop_id: str) -> str:
    """Hash of a shop's stock feeds not yet settled, submission token -> the feed's record: its platform id
    once created and the numbers it carries (pipeline/stock_sync.py)."""
    return f"{prefix}:{seller}:stock:feeds:{shop_id}"
