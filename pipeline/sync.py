"""Incremental order sync for any platform connector: fetch changes since the cursor, store, advance.

Each run re-reads an overlap window before the cursor (platforms publish some updates late), stores
every page idempotently, and moves the cursor only after every page is stored, so a crash at any
point means re-reading, never skipping. A bundle that does not map is stored raw and held.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import datetime, timedelta

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


def receive(connector: PlatformConnector, shop: ShopRef, bundle: RawBundle) -> Received:
    """One raw bundle as the store takes it: mapped to an Order, or kept raw with why it did not map."""
    raw = orjson.dumps(bundle, option=orjson.OPT_SORT_KEYS)
    payload_hash = hashlib.sha256(raw).hexdigest()
    identity = connector.identify(bundle)
    external_id = identity.external_id or f"unidentified-{payload_hash[:16]}"
    key = order_key(shop.platform, shop.shop_id, external_id)
    try:
        order = connector.map_order(bundle, shop)
    except HoldError as exc:
        return Received(key=key, platform=shop.platform, shop_id=shop.shop_id, raw=raw,
                        payload_hash=payload_hash, updated_at=identity.updated_at, error=str(exc))
    except Exception as exc:  # a mapping bug must still not lose the order: hold it with the raw kept
        return Received(key=key, platform=shop.platform, shop_id=shop.shop_id, raw=raw,
                        payload_hash=payload_hash, updated_at=identity.updated_at,
                        error=f"mapping failed unexpectedly: {type(exc).__name__}")
    order = msgspec.structs.replace(order, payload_hash=payload_hash)
    return Received(key=order.key, platform=shop.platform, shop_id=shop.shop_id, raw=raw,
                    payload_hash=payload_hash, updated_at=order.updated_at, order=order)


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
) -> SyncReport:
    """Fetch every order changed since the cursor (minus the connector's overlap) and store it.

    `since` overrides the cursor (reconciliation sweeps read a wide window; they do not move it back).
    """
    now = now or utc_now()
    cursor = store.cursor(shop.seller, shop.shop_id, stream)
    start = since or ((cursor - connector.overlap) if cursor else now - lookback)
    until = client.sync_horizon(now)
    report = SyncReport(shop=shop, since=start, until=until)
    bound = log.bind(seller=shop.seller, platform=shop.platform, shop=shop.shop_id)
    if until <= start:
        return report
    tally: Counter[str] = Counter()
    for page in client.changed_orders(start, until):
        stored = store_bundles(store, connector, shop, page)
        report.pages += 1
        report.seen += len(page)
        for item, result in stored:
            tally[result.value] += 1
            if result in (UpsertResult.NEW, UpsertResult.UPDATED):
                report.changed.append(item.key)
            if item.error is not None and result in (UpsertResult.NEW, UpsertResult.UPDATED):
                report.held_invalid += 1
                bound.warning("order.held", order_key=item.key, reason="INVALID_PAYLOAD", detail=item.error)
        bound.debug("sync.page", page=report.pages, size=len(page), **{k.lower(): v for k, v in tally.items()})
    report.results = dict(tally)
    advanced = move_cursor and (cursor is None or until > cursor)
    if advanced:
        store.set_cursor(shop.seller, shop.shop_id, until, stream)
    bound.info("sync.done", since=start.isoformat(), until=until.isoformat(), pages=report.pages,
               seen=report.seen, cursor_moved=advanced, **{k.lower(): v for k, v in tally.items()})
    return report


def fetch_and_store(store: OrderStore, connector: PlatformConnector, client: PlatformClient, shop: ShopRef,
                    external_id: str) -> UpsertResult:
    """Fetch one order by id and store it (webhook-triggered fetch, replay of a single order)."""
    ((_, result),) = store_bundles(store, connector, shop, [client.fetch_order(external_id)])
    return result
