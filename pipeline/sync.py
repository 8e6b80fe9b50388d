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

from pipeline.errors import HoldError
from pipeline.model import order_key, utc_now
from pipeline.ports import PlatformClient, PlatformConnector, RawBundle, ShopRef
from pipeline.store import OrderStore, Received, UpsertResult

log = structlog.get_logger()

INITIAL_LOOKBACK = timedelta(days=7)
"""How far back the first sync of a new shop reads (the reconciliation sweep reads wider)."""

MIN_SLICE = timedelta(seconds=5)
"""The shortest slice a sync window is cut into after interrupted runs (see SliceHint). A minute was
too long: in the 100,000-order run the minute after the busiest submissions held 85 SHEIN updates,
whose list calls alone (a part per 20 orders, each a call to a loaded emulator, some timing out)
took 25 s, past the task's soft limit, so SHEIN's cursor stood still for good."""


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
    order = msgspec.structs.replace(order, payload_hash=payload_hash)
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


def store_bundles(store: OrderStore, connector: PlatformConnector, shop: ShopRef,
                  bundles: list[RawBundle]) -> list[tuple[Received, UpsertResult]]:
    """Map and store one page in one round trip."""
    items = [receive(connector, shop, bundle) for bundle in bundles]
    results = store.upsert(shop.seller, items)
    return list(zip(items, results, strict=True))


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
) -> SyncReport:
    """Fetch every order changed since the cursor (minus the connector's overlap) and store it.

    `since` overrides the cursor (reconciliation sweeps read a wide window; they do not move it back).
    With `slice_length` the window is read in slices of at most that length and the cursor moves
    after each one, so a run cut short (time limit, killed worker) resumes where it stopped instead
    of re-reading a window it can never finish; slices shrink after such runs (SliceHint).
    `on_slice(keys)` gets each slice's keys to route before the cursor moves past them: the NEW and
    UPDATED ones, and the re-read ones still unsettled (see `OrderStore.unsettled`), whose routing an
    earlier, interrupted run may have stored but never started.
    With `reuse_rows` the client skips the per-order calls for list rows the store already holds
    whole (StoredRows); a reconciliation sweep turns it off to read every order afresh.
    """
    now = now or utc_now()
    cursor = store.cursor(shop.seller, shop.shop_id, stream)
    read_at = store.cursor_read_at(shop.seller, shop.shop_id, stream)
    start = since or (_resume_from(cursor, read_at, connector.overlap) if cursor else now - lookback)
    until = client.sync_horizon(now)
    report = SyncReport(shop=shop, since=start, until=until)
    bound = log.bind(seller=shop.seller, platform=shop.platform, shop=shop.shop_id)
    if until <= start:
        return report
    tally: Counter[str] = Counter()
    advanced = False
    slices = SliceHint(store, shop, stream, slice_length, cursor)
    lower = start
    while lower < until:
        upper = slices.end(lower, until)
        slices.entering(lower, upper)
        keys: list[str] = []  # NEW and UPDATED, for the report
        unsettled: list[str] = []  # re-read, unchanged, yet never routed to the end
        listed = StoredRows(store, shop) if reuse_rows else None
        for page in client.changed_orders(lower, upper, listed):
            stored = store_bundles(store, connector, shop, page)
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
        if on_slice is not None and (keys or unsettled):
            on_slice(keys + unsettled)
        if move_cursor and (cursor is None or upper > cursor):
            store.set_cursor(shop.seller, shop.shop_id, upper, stream, read_at=now)
            cursor, advanced = upper, True
        elif move_cursor and since is None and (settled := _settled_through(upper, now, connector.overlap, read_at)):
            # A slice of the overlap, read again for good: a run cut off later must not read it again.
            store.set_cursor(shop.seller, shop.shop_id, cursor, stream, read_at=settled)
            read_at = settled
        slices.finished(lower)
        lower = upper
    slices.window_read()
    report.results = dict(tally)
    bound.info("sync.done", since=start.isoformat(), until=until.isoformat(), pages=report.pages,
               seen=report.seen, cursor_moved=advanced, **{k.lower(): v for k, v in tally.items()})
    return report


def _settled_through(upper: datetime, now: datetime, overlap: timedelta, read_at: datetime | None) -> datetime | None:
    """The read time to note once the overlap has been read again up to `upper` at `now`: updates
    stamped before `upper` show by `upper + overlap`, so if that is past, none is left to hide there
    (else, none before `now - overlap`). None when it would not move the noted one forward.

    Without it, a run that could not finish re-reading the overlap within its time limit started
    over the next time: SHEIN's cursor in the 100,000-order chaos run stood still for good."""
    settled = min(now, upper + overlap)
    return settled if read_at is None or settled > read_at else None


def _resume_from(cursor: datetime, read_at: datetime | None, overlap: timedelta) -> datetime:
    """Where a sync resumes: the overlap before the cursor, but only the part a late update could
    have been hiding in when it was read.

    An update stamped at t shows within `overlap` of t, so a run that started at `read_at` saw every
    update stamped before `read_at - overlap`. Caught up (cursor near its read time), that is the
    whole overlap; catching up a backlog (cursor hours behind), nothing before the cursor needs a
    second read. Re-reading the full overlap on every run made SHEIN's backlog in the 100,000-order
    chaos run quadratic: each run spent its time limit re-reading details before reaching new ground.
    Without a known read time (a cursor set by hand), the whole overlap is read again."""
    if read_at is None:
        return cursor - overlap
    return min(cursor, read_at - overlap)


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
        digests = {ext: _digest(row) for ext, row in rows.items()}
        found = self.store.listed_rows(self.shop.seller, [self._key(ext) for ext in digests])
        known = set()
        for (ext, digest), (row, hold, stage) in zip(digests.items(), found, strict=True):
            if digest is not None and row is not None and row.decode() == digest and hold != b"INVALID_PAYLOAD":
                known.add(ext)
                if stage in (b"received", b"routed"):
                    self.unsettled.append(self._key(ext))
        self.skipped += len(known)
        return known

    def remember(self, rows: Mapping[str, Any]) -> None:
        digests = {self._key(ext): digest for ext, row in rows.items() if (digest := _digest(row)) is not None}
        self.store.remember_rows(self.shop.seller, digests)


def _digest(row: Any) -> str | None:
    try:
        return hashlib.blake2b(orjson.dumps(row, option=orjson.OPT_SORT_KEYS), digest_size=16).hexdigest()
    except TypeError:  # not JSON data: never known, always read
        return None


class SliceHint:
    """How long the next slice of a shop's window is: at most `longest`, halved (down to MIN_SLICE)
    when a run died inside a slice, doubled again after each slice of new ground that finished.

    The halving is written before a slice is read and undone after it, so a run that never comes
    back (time limit, SIGKILL) leaves the shorter length for the next one. A shop whose window reads
    in one go keeps reading it in one go; only a window that cannot be read within one task is cut.

    The overlap (before the cursor, read again) has a length of its own, and its slices stop at the
    cursor. It halves to half the slice a run died in, is never doubled within a run, and is
    forgotten once a run reads its whole window. Sharing one length went wrong both ways in the
    chaos runs: a finished overlap slice doubled the length, and TEMU's next slice of new ground
    died as long as before, run after run; a caught-up AliExpress whose runs died in slow new ground
    re-read its 30-minute overlap in 5 s slices, a list call each, hit its time limit there, halved
    the length again with each death, and hung ~28 minutes behind the present.
    """

    def __init__(self, store: OrderStore, shop: ShopRef, stream: str, longest: timedelta | None,
                 cursor: datetime | None) -> None:
        self.redis, self.longest, self.cursor = store.redis, longest or timedelta(0), cursor
        self.key = f"{store.prefix}:{shop.seller}:cursor:{shop.shop_id}:{stream}:slice"
        self.length, self.reread = self._saved(self.key), self._saved(self.key + ":overlap")

    def _saved(self, key: str) -> timedelta:
        saved = self.redis.get(key) if self.longest else None
        return min(self.longest, timedelta(seconds=float(saved))) if saved else self.longest

    def _rereading(self, lower: datetime) -> bool:
        return self.cursor is not None and lower < self.cursor

    def end(self, lower: datetime, until: datetime) -> datetime:
        if not self.longest:
            return until
        if self._rereading(lower):
            return min(until, self.cursor, lower + self.reread)
        return min(until, lower + self.length)

    def entering(self, lower: datetime, upper: datetime) -> None:
        if not self.longest:
            return
        if self._rereading(lower):
            self.redis.set(self.key + ":overlap", max(MIN_SLICE, (upper - lower) / 2).total_seconds())
        else:
            self.redis.set(self.key, max(MIN_SLICE, self.length / 2).total_seconds())

    def finished(self, lower: datetime) -> None:
        if not self.longest:
            return
        if self._rereading(lower):
            self.redis.set(self.key + ":overlap", self.reread.total_seconds())
        else:
            self.length = min(self.longest, self.length * 2)
            self.redis.set(self.key, self.length.total_seconds())

    def window_read(self) -> None:
        if self.longest:
            self.redis.delete(self.key + ":overlap")


def fetch_and_store(store: OrderStore, connector: PlatformConnector, client: PlatformClient, shop: ShopRef,
                    external_id: str) -> UpsertResult:
    """Fetch one order by id and store it (webhook-triggered fetch, replay of a single order)."""
    ((_, result),) = store_bundles(store, connector, shop, [client.fetch_order(external_id)])
    return result
