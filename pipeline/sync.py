"""Incremental order sync for any platform connector: fetch changes since the cursor, store, advance.

Each run re-reads an overlap window before the cursor (platforms publish some updates late), stores
every page idempotently, and moves the cursor only after every page is stored, so a crash at any
point means re-reading, never skipping. A bundle that does not map is stored raw and held.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import msgspec
import orjson
import structlog

from pipeline.archive import relisted
from pipeline.archive.relisted import ArchiveLink
from pipeline.errors import HoldError
from pipeline.identity import order_key, row_digest
from pipeline.model import utc_now
from pipeline.ports import PlatformClient, PlatformConnector, RawBundle, ShopRef
from pipeline.stages import UNSETTLED_RAW
from pipeline.store import OrderStore, Received, UpsertResult
from pipeline.windows import WindowedRead

log = structlog.get_logger()

INITIAL_LOOKBACK = timedelta(days=7)
"""How far back the first sync of a new shop reads (the reconciliation sweep reads wider)."""


class SyncReport(msgspec.Struct, kw_only=True):
    shop: ShopRef
    since: datetime
    until: datetime
    pages: int = 0
    seen: int = 0
    held_invalid: int = 0
    results: dict[str, int] = {}
    changed: list[str] = []  # keys stored NEW or UPDATED: what routing has to look at


    def count(self, result: UpsertResult) -> int:
        return self.results.get(result.value, 0)


def stored_bytes(bundle: RawBundle) -> bytes:
    """A raw bundle as the store keeps it (sorted keys, so its hash names its content): also what is mapped."""
    return orjson.dumps(bundle, option=orjson.OPT_SORT_KEYS)


def receive(connector: PlatformConnector, shop: ShopRef, bundle: RawBundle) -> Received:
    """One raw bundle as the store takes it: mapped to an Order, or kept raw with why it did not map."""
    raw = stored_bytes(bundle)
    payload_hash = hashlib.sha256(raw).hexdigest()
    try:
        order = connector.map_raw(raw, shop)  # the bytes are made for the store anyway: decoded once, typed
    except HoldError as exc:
        return _held(connector, shop, bundle, raw, payload_hash, str(exc))
    except Exception as exc:  # a mapping bug must still not lose the order: hold it with the raw kept
        return _held(connector, shop, bundle, raw, payload_hash, f"mapping failed unexpectedly: {type(exc).__name__}")
    # The order is this call's own, fresh from map_raw: stamping the hash in place spares a copy that would
    # run every model check a second time (structs.replace does), and the model checks nothing of the hash.
    msgspec.structs.force_setattr(order, "payload_hash", payload_hash)
    return Received(key=order.key, platform=shop.platform, shop_id=shop.shop_id, raw=raw,
                    payload_hash=payload_hash, updated_at=order.updated_at, order=order)


def _held(connector: PlatformConnector, shop: ShopRef, bundle: RawBundle, raw: bytes, payload_hash: str,
          error: str) -> Received:
    """A bundle that did not map, filed under whatever identity can still be read from it."""
    identity = connector.identify(bundle)
    external_id = identity.external_id or f"unidentified-{payload_hash[:16]}"
    return Received(key=order_key(shop.platform, shop.shop_id, external_id), platform=shop.platform,
                    shop_id=shop.shop_id, raw=raw, payload_hash=payload_hash, updated_at=identity.updated_at,
                    error=error)


def store_bundles(store: OrderStore, connector: PlatformConnector, shop: ShopRef, bundles: list[RawBundle],
                  archive: ArchiveLink | None = None) -> list[tuple[Received, UpsertResult]]:
    """Map and store one page in one round trip. An order moved to the archive is not stored again
    (ARCHIVED, or RELISTED with its change written to the archive: pipeline/archive/relisted.py)."""
    link = archive or ArchiveLink()
    items = [receive(connector, shop, bundle) for bundle in bundles]
    known = relisted.screen(store, shop.seller, items, link)
    upserted = iter(store.upsert(shop.seller, [item for i, item in enumerate(items) if i not in known]))
    stored = [(item, known[i] if i in known else next(upserted)) for i, item in enumerate(items)]
    relisted.record(store, shop.seller, stored, link)
    return stored


def sync_orders(
    store: OrderStore,
    connector: PlatformConnector,
    client: PlatformClient,
    shop: ShopRef,
    *,
    now: datetime | None = None,
    stream: str = "orders",
    lookback: timedelta = INITIAL_LOOKBACK,
    since: datetime | None = None,
    move_cursor: bool = True,
    reuse_rows: bool = True,
    slice_length: timedelta | None = None,
    on_slice: Callable[[list[str]], None] | None = None,
    archive: ArchiveLink | None = None,
) -> SyncReport:
    """Fetch every order changed since the cursor (minus the connector's overlap) and store it.

    `since` overrides the cursor (reconciliation sweeps read a wide window; they do not move it back).
    With `slice_length` the window is read in slices of at most that length and the cursor moves
    after each one, so a run cut short (time limit, killed worker) resumes where it stopped instead
    of re-reading a window it can never finish; slices shrink after such runs (pipeline/windows.py
    WindowedRead, the same read as the shipment poll's).
    `on_slice(keys)` gets each slice's keys to route before the cursor moves past them: the NEW and
    UPDATED ones, and the re-read ones still unsettled (see `OrderStore.unsettled`), whose routing an
    earlier, interrupted run may have stored but never started.
    `archive` is how archived orders listed again are recognised (pipeline/archive/relisted.py).
    With `reuse_rows` the client skips the per-order calls for list rows the store already holds
    whole (StoredRows); a reconciliation sweep turns it off to read every order afresh.
    """
    now = now or utc_now()
    window = WindowedRead(store, shop.seller, shop.shop_id, stream, overlap=connector.overlap, now=now,
                          horizon=client.sync_horizon(now), first_read=lookback, since=since)
    report = SyncReport(shop=shop, since=window.since, until=window.until)
    bound = log.bind(seller=shop.seller, platform=shop.platform, shop=shop.shop_id)
    if window.until <= window.since:
        return report
    tally: Counter[str] = Counter()

    def read(lower: datetime, upper: datetime) -> list[str]:
        """Store one slice; returns its keys to route: NEW and UPDATED, then the re-read unsettled ones."""
        keys: list[str] = []  # NEW and UPDATED, for the report
        unsettled: list[str] = []  # re-read, unchanged, yet never routed to the end
        listed = StoredRows(store, shop) if reuse_rows else None
        for page in client.changed_orders(lower, upper, listed):
            stored = store_bundles(store, connector, shop, page, archive)
            report.pages += 1
            report.seen += len(page)
            rereads = []
            for item, result in stored:
                tally[result.value] += 1
                if result in (UpsertResult.NEW, UpsertResult.UPDATED):
                    keys.append(item.key)
                else:
                    rereads.append(item.key)
                if item.error is not None and result in (UpsertResult.NEW, UpsertResult.UPDATED):
                    report.held_invalid += 1
                    bound.warning("order.held", order_key=item.key, reason="INVALID_PAYLOAD", detail=item.error)
            unsettled.extend(store.unsettled(shop.seller, rereads))
            bound.debug("sync.page", page=report.pages, size=len(page), **{k.lower(): v for k, v in tally.items()})
        if listed is not None:
            report.seen += listed.skipped
            tally[UpsertResult.UNCHANGED.value] += listed.skipped
            unsettled.extend(listed.unsettled)
        report.changed.extend(keys)
        return keys + unsettled

    # A sweep's `since` is not the overlap before the cursor: reading it settles nothing.
    advanced = window.run(read, on_slice, slice_length=slice_length, move_cursor=move_cursor,
                          settle=since is None)
    report.results = dict(tally)
    bound.info("sync.done", since=window.since.isoformat(), until=window.until.isoformat(),
               pages=report.pages, seen=report.seen, cursor_moved=advanced,
               **{k.lower(): v for k, v in tally.items()})
    return report


class StoredRows:
    """`ListedRows` over the order store, for one slice of one shop.

    A row is known when the stored order was built from a byte-identical row and did not fail to
    map (a fresh read may fetch a good payload). Known orders whose routing never finished are
    collected, as re-read unchanged ones are, so the slice routes them before the cursor passes."""

    def __init__(self, store: OrderStore, shop: ShopRef) -> None:
        self.store, self.shop = store, shop
        self.skipped = 0
        self.unsettled: list[str] = []

    def _key(self, external_id: str) -> str:
        return order_key(self.shop.platform, self.shop.shop_id, external_id)

    def known(self, rows: Mapping[str, Any]) -> set[str]:
        digests = {ext: row_digest(row) for ext, row in rows.items()}
        found = self.store.listed_rows(self.shop.seller, [self._key(ext) for ext in digests])
        known = set()
        for (ext, digest), (row, hold, stage) in zip(digests.items(), found, strict=True):
            if digest is not None and row is not None and row.decode() == digest and hold != b"INVALID_PAYLOAD":
                known.add(ext)
                if stage in UNSETTLED_RAW:
                    self.unsettled.append(self._key(ext))
        self.skipped += len(known)
        return known

    def remember(self, rows: Mapping[str, Any]) -> None:
        digests = {self._key(ext): digest for ext, row in rows.items() if (digest := row_digest(row)) is not None}
        self.store.remember_rows(self.shop.seller, digests)


def fetch_and_store(store: OrderStore, connector: PlatformConnector, client: PlatformClient, shop: ShopRef,
                    external_id: str, archive: ArchiveLink | None = None) -> UpsertResult:
    """Fetch one order by id and store it (webhook-triggered fetch, replay of a single order)."""
    ((_, result),) = store_bundles(store, connector, shop, [client.fetch_order(external_id)], archive)
    return result


def remap_stored(store: OrderStore, connector: PlatformConnector, shop: ShopRef, key: str) -> str:
    """Map an order's kept raw payload again with the current connector (after a connector fix) and store
    the result: the point of keeping the raw payload is that a fix releases what it held. Returns what
    happened, for the operator."""
    stored = store.get(shop.seller, key)
    if stored is None or not stored.raw:
        return "no raw payload kept"
    item = receive(connector, shop, orjson.loads(stored.raw))
    if item.key != key:
        return f"now maps to another order key ({item.key}): left held for review"
    store.restore(shop.seller, item)
    return "mapped" if item.error is None else f"still does not map: {item.error}"

