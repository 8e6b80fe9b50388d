"""Closed orders out of Redis into the archive, in batches, crash-safe: an order is in one tier or both.

Each batch is written to the archive first (an idempotent upsert, committed), and only then is each
order taken out of Redis, in one MULTI/EXEC that also leaves its tombstone. A run killed in between
leaves the batch in both tiers, and the next run writes it again and finishes; the order is never in
neither. The EXEC is guarded by WATCH on the order hash and timeline and by a check that they are
what was archived (payload hash, number of events): an order that changed after it was read (a sync
stored an update, tracking came in) stays in Redis and is archived again, whole, by a later run.

The tombstone (keys.tombstone, `{hash head}:{archived at}`, about 45 bytes, expiring after the seller's
`retention.tombstone_days`) is what tells the sync that an order it lists again was archived: the
upsert script reads it and stores nothing (pipeline/store_scripts.py), and pipeline/archive/relisted.py
records a real change in the archive's timeline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import msgspec
import redis
import structlog
from sqlalchemy import Engine

from config.schema import SellerConfig, SkuMapConfig
from pipeline import keys
from pipeline.archive.build import NotArchivable, collect
from pipeline.archive.closing import Candidate, closed_at, quiet_candidates
from pipeline.archive.records import ArchivedOrder
from pipeline.archive.writer import archive_orders
from pipeline.model import utc_now
from pipeline.store import OrderStore
from pipeline.store_scripts import HASH_HEAD

log = structlog.get_logger()

BATCH = 500
"""Orders per archive transaction."""
_PER_ORDER = (keys.order, keys.timeline, keys.submitted, keys.shipments, keys.tracking_pushed,
              keys.tracking_refused, keys.acknowledged, keys.allocation, keys.consumed)
"""Every family with one key per order but the route lease (it expires by itself, and a router may hold it)."""


class MoveReport(msgspec.Struct, kw_only=True):
    seller: str
    looked_at: int = 0  # candidates read whole from Redis
    archived: int = 0  # written to the archive and taken out of Redis
    open: int = 0  # not closed after all (tracking unsettled, stock reserved, a hold...)
    changed: int = 0  # changed after it was archived: left in Redis for a later run
    unarchivable: int = 0  # its payload never mapped


def tombstone_value(payload_hash: str, archived_at: datetime) -> str:
    """What a tombstone holds: the head of the archived payload hash and when it was archived."""
    return f"{payload_hash[:HASH_HEAD]}:{int(archived_at.timestamp())}"


def tombstone_time(value: bytes | str) -> datetime | None:
    """When the order of a tombstone was archived (the inverse of `tombstone_value`), or None when the
    value cannot be read."""
    text = value.decode() if isinstance(value, bytes) else value
    seconds = text[HASH_HEAD + 1:]  # after the fixed-length hash head and its separator
    return datetime.fromtimestamp(int(seconds), UTC) if seconds.isdigit() else None


def archive_seller(store: OrderStore, engine: Engine, seller: SellerConfig, *, now: datetime | None = None,
                   limit: int | None = None, progress: Callable[[MoveReport], None] | None = None) -> MoveReport:
    """Move the seller's orders closed more than `retention.hot_days` ago, with its SKU map and its
    tombstone window (what the hourly task and `orderhub archive run` do)."""
    retention = seller.retention
    return move_closed(store, engine, seller.seller, (now or utc_now()) - timedelta(days=retention.hot_days),
                       tombstone_days=retention.tombstone_days, sku_map=seller.sku_map, limit=limit,
                       progress=progress)


def move_closed(store: OrderStore, engine: Engine, seller: str, older_than: datetime, *, batch: int = BATCH,
                tombstone_days: int = 90, sku_map: SkuMapConfig | None = None, limit: int | None = None,
                progress: Callable[[MoveReport], None] | None = None) -> MoveReport:
    """Move the seller's orders closed before `older_than` to the archive; with `limit` the run stops
    after the batch that brought it to that many closed orders (a task under a time limit: open ones
    found on the way are few, being quiet for days at a closing stage), `progress` hears after each batch."""
    report = MoveReport(seller=seller)
    pending: list[Candidate] = []
    for candidate in quiet_candidates(store, seller, older_than):
        pending.append(candidate)
        if len(pending) >= batch:
            _move_batch(store, engine, seller, pending, older_than, tombstone_days, sku_map, report)
            pending = []
            if progress is not None:
                progress(report)
            if limit is not None and report.archived + report.changed >= limit:
                break
    if pending:
        _move_batch(store, engine, seller, pending, older_than, tombstone_days, sku_map, report)
        if progress is not None:
            progress(report)
    log.info("archive.moved", **msgspec.structs.asdict(report))
    return report


def _move_batch(store: OrderStore, engine: Engine, seller: str, candidates: Sequence[Candidate],
                older_than: datetime, tombstone_days: int, sku_map: SkuMapConfig | None,
                report: MoveReport) -> None:
    records: list[ArchivedOrder] = []
    for candidate in candidates:
        report.looked_at += 1
        try:
            record = collect(store, seller, candidate.key, sku_map=sku_map)
        except NotArchivable:
            report.unarchivable += 1
            continue
        closed = closed_at(record, candidate.reserved) if record is not None else None
        if record is None or closed is None or closed > older_than:
            report.open += 1  # gone meanwhile, not closed, or moved on since it was found
            continue
        records.append(msgspec.structs.replace(record, closed_at=closed))
    if not records:
        return
    archive_orders(engine, records)  # committed: from here on each order is in both tiers
    archived_at, ttl = utc_now(), timedelta(days=tombstone_days)
    for record in records:
        if take_out(store, record, tombstone_value(record.payload_hash, archived_at), ttl):
            report.archived += 1
        else:
            report.changed += 1


def take_out(store: OrderStore, record: ArchivedOrder, tombstone: str, ttl: timedelta) -> bool:
    """Delete an archived order's keys from Redis and leave its tombstone, in one transaction, if Redis
    still holds what was archived; False (nothing deleted) when it changed meanwhile."""
    prefix, seller, key = store.prefix, record.seller, record.key
    order_key, timeline_key = keys.order(prefix, seller, key), keys.timeline(prefix, seller, key)
    with store.redis.pipeline(transaction=True) as pipe:
        try:
            pipe.watch(order_key, timeline_key)
            stored_hash, platform, status, hold = pipe.hmget(order_key, "hash", "platform", "status", "hold")
            if stored_hash is None or stored_hash.decode() != record.payload_hash \
                    or pipe.llen(timeline_key) != len(record.timeline):
                pipe.unwatch()
                return False
            pipe.multi()
            pipe.set(keys.tombstone(prefix, seller, key), tombstone, ex=ttl)
            pipe.delete(*(family(prefix, seller, key) for family in _PER_ORDER))
            if platform and status:
                pipe.srem(keys.status_index(prefix, seller, platform.decode(), status.decode()), key)
            if hold:
                pipe.srem(keys.holds(prefix, seller, hold.decode()), key)
            pipe.srem(keys.allocations(prefix, seller), key)
            for shipment in record.shipments:
                pipe.zrem(keys.tracking_due(prefix, seller, shipment.warehouse), key)
            if record.submissions:
                pipe.hdel(keys.references(prefix, seller), *(sub.reference for sub in record.submissions))
            pipe.hdel(keys.address_refetch(prefix, seller), key)
            pipe.execute()
        except redis.WatchError:
            return False
    return True
