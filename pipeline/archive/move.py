"""Closed orders out of Redis into the archive, in batches, crash-safe: an order is in one tier or both.

Each batch is read from Redis in one pipelined round trip (build.collect_many), written to the archive
(an idempotent upsert, committed), and only then taken out of Redis by one Lua script for the whole
batch (pipeline/archive/take_out.py), which also leaves each order's tombstone. A run killed in between
leaves the batch in both tiers, and the next run writes it again and finishes; the order is never in
neither. The script deletes an order only if Redis still holds what was archived (payload hash, number
of events), atomically with that check: an order that changed after it was read (a sync stored an
update, tracking came in) stays in Redis and is archived again, whole, by a later run.

The tombstone (pipeline/archive/tombstones.py: a field in a hash per shop and placed day, 12 bytes,
expiring `retention.tombstone_days` after the day the order was placed) is what tells the sync that an
order it lists again was archived: the upsert script reads it and stores nothing
(pipeline/store_scripts.py), and pipeline/archive/relisted.py records a real change in the archive's
timeline. An order placed so long ago that its bucket would already have expired gets none: past the
window the sync asks the archive (relisted.screen).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import msgspec
import structlog
from sqlalchemy import Engine

from config.schema import RetentionConfig, SellerConfig, SkuMapConfig
from pipeline.archive.build import NotArchivable, collect_many
from pipeline.archive.closing import Candidate, closed_at, quiet_candidates
from pipeline.archive.records import ArchivedOrder
from pipeline.archive.scrub import scrub_pii
from pipeline.archive.take_out import TakeOut
from pipeline.archive.writer import archive_orders
from pipeline.model import utc_now
from pipeline.store import OrderStore

log = structlog.get_logger()

BATCH = 500
"""Orders per archive transaction, per pipelined read and per take-out script call."""


class MoveReport(msgspec.Struct, kw_only=True):
    seller: str
    looked_at: int = 0  # candidates read whole from Redis
    archived: int = 0  # written to the archive and taken out of Redis
    open: int = 0  # not closed after all (tracking unsettled, stock reserved, a hold...)
    changed: int = 0  # changed after it was archived: left in Redis for a later run
    unarchivable: int = 0  # its payload never mapped
    scrubbed: int = 0  # archived orders whose buyer data was scrubbed (archive_seller)


def archive_seller(store: OrderStore, engine: Engine, seller: SellerConfig, *, now: datetime | None = None,
                   limit: int | None = None, progress: Callable[[MoveReport], None] | None = None) -> MoveReport:
    """Move the seller's orders closed more than `retention.hot_days` ago, with its SKU map and its
    tombstone window, then scrub the buyer data of those closed `retention.pii_days` ago (what the hourly
    task and `orderhub archive run` do)."""
    retention, now = seller.retention, now or utc_now()
    report = move_closed(store, engine, seller.seller, now - timedelta(days=retention.hot_days),
                         tombstone_days=retention.tombstone_days, sku_map=seller.sku_map, limit=limit,
                         progress=progress)
    report.scrubbed = scrub_pii(engine, seller.seller, now - timedelta(days=retention.pii_days))
    return report


def move_closed(store: OrderStore, engine: Engine, seller: str, older_than: datetime, *, batch: int = BATCH,
                tombstone_days: int = RetentionConfig().tombstone_days, sku_map: SkuMapConfig | None = None, limit: int | None = None,
                progress: Callable[[MoveReport], None] | None = None) -> MoveReport:
    """Move the seller's orders closed before `older_than` to the archive; with `limit` the run stops
    after the batch that brought it to that many closed orders (a task under a time limit: open ones
    found on the way are few, being quiet for days at a closing stage), `progress` hears after each batch."""
    report = MoveReport(seller=seller)
    take_out = TakeOut(store)
    pending: list[Candidate] = []
    for candidate in quiet_candidates(store, seller, older_than):
        pending.append(candidate)
        if len(pending) >= batch:
            _move_batch(store, engine, take_out, seller, pending, older_than, tombstone_days, sku_map, report)
            pending = []
            if progress is not None:
                progress(report)
            if limit is not None and report.archived + report.changed >= limit:
                break
    if pending:
        _move_batch(store, engine, take_out, seller, pending, older_than, tombstone_days, sku_map, report)
        if progress is not None:
            progress(report)
    log.info("archive.moved", **msgspec.structs.asdict(report))
    return report


def _move_batch(store: OrderStore, engine: Engine, take_out: TakeOut, seller: str, candidates: Sequence[Candidate],
                older_than: datetime, tombstone_days: int, sku_map: SkuMapConfig | None,
                report: MoveReport) -> None:
    records: list[ArchivedOrder] = []
    found = collect_many(store, seller, [candidate.key for candidate in candidates], sku_map=sku_map)
    for candidate, record in zip(candidates, found, strict=True):
        report.looked_at += 1
        if isinstance(record, NotArchivable):
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
    taken = take_out(seller, records, utc_now(), timedelta(days=tombstone_days))
    report.archived += sum(taken)
    report.changed += len(taken) - sum(taken)
