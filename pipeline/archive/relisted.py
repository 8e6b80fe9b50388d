"""An archived order listed again (sync overlap, reconciliation, a late update): recognised, never
stored, routed or submitted again; a real change to it goes to the archive's timeline.

Within the tombstone window the upsert script itself recognises it (pipeline/store_scripts.py: ARCHIVED,
or RELISTED when its payload hash changed), atomically with the store, so no move can slip in between.
The window runs from the day the order was placed (pipeline/archive/tombstones.py); past it only the
archive knows the order: `screen` asks it, before the upsert, about the few orders of a page that could
be that old (placed before the window began and not in Redis). It leaves a tombstone for one it finds
only while the order's bucket still lives (the last day of the window); otherwise the archive is asked
again at its next listing. `record` writes a RELISTED order's change: an `updated` event on its archived
timeline and, when the copy is newer, the platform status, payload and its hash on the archived row (its
lines and totals stay as archived), then moves the tombstone to the new hash so the same payload is not
recorded twice. A crash between the two records the change again on the next listing: at least once,
never lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy import Engine, insert, select, update

from config.schema import RetentionConfig
from pipeline import keys
from pipeline.archive import schema, tombstones
from pipeline.archive.engine import get_engine, writing
from pipeline.archive.late_address import late_address_hold
from pipeline.archive.migrate import current
from pipeline.archive.records import compress_raw
from pipeline.archive.writer import next_event_seq
from pipeline.model import EventKind, HoldReason, utc_now
from pipeline.store import OrderStore, Received, UpsertResult

log = structlog.get_logger()


class ArchiveLink:
    """How a sync reaches the archive. With no engine, `get_engine()` is made on first use (only a
    RELISTED order needs it); `screen` asks the archive only when the link was given an engine."""

    def __init__(self, engine: Engine | None = None, tombstone_days: int = RetentionConfig().tombstone_days) -> None:
        self._engine = engine
        self.asks_archive = engine is not None
        self.window = timedelta(days=tombstone_days)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = get_engine()
        return self._engine


def screen(store: OrderStore, seller: str, items: Sequence[Received], link: ArchiveLink,
           now: datetime | None = None) -> dict[int, UpsertResult]:
    """Of `items`, those only the archive holds (tombstone expired), by index, as the upsert would have
    answered (ARCHIVED or RELISTED); they are not to be upserted."""
    if not link.asks_archive or not items:
        return {}
    horizon = (now or utc_now()) - link.window
    old = [i for i, item in enumerate(items) if item.order is not None and item.order.placed_at < horizon]
    if not old:
        return {}
    pipe = store.redis.pipeline(transaction=False)
    for i in old:
        order = items[i].order
        assert order is not None  # `old` holds mapped orders only
        pipe.exists(keys.order(store.prefix, seller, items[i].key),
                    keys.legacy_tombstone(store.prefix, seller, items[i].key))
        pipe.hexists(tombstones.bucket(store.prefix, seller, order.platform, order.shop_id, order.placed_at),
                     order.external_id)
    replies = pipe.execute()
    unknown = [i for n, i in enumerate(old) if not (replies[2 * n] or replies[2 * n + 1])]
    archived = _archived_hashes(link.engine, seller, [items[i].key for i in unknown]) if unknown else {}
    found: dict[int, UpsertResult] = {}
    for i in unknown:
        archived_hash = archived.get(items[i].key)
        if archived_hash is not None:
            same = archived_hash == items[i].payload_hash
            found[i] = UpsertResult.ARCHIVED if same else UpsertResult.RELISTED
            order = items[i].order
            assert order is not None  # screened orders are mapped ones
            tombstones.leave_order(pipe, store.prefix, seller, order, archived_hash, window=link.window, now=utc_now(),
                                   replace=False)
    pipe.execute()  # nothing queued when no bucket still lives: an empty pipeline costs no round trip
    return found


def record(store: OrderStore, seller: str, stored: Sequence[tuple[Received, UpsertResult]],
           link: ArchiveLink) -> int:
    """Write the change of every RELISTED order to the archive; returns how many were recorded."""
    recorded = 0
    for item, result in stored:
        if result is UpsertResult.RELISTED and record_change(link.engine, seller, item):
            recorded += 1
            pipe = store.redis.pipeline(transaction=True)  # the field and its bucket's expiry together
            # RELISTED comes only for a mapped order: the upsert and `screen` check no other
            if item.order is not None and tombstones.leave_order(pipe, store.prefix, seller, item.order,
                                                                 item.payload_hash, window=link.window, now=utc_now()):
                pipe.execute()
    if recorded:
        log.info("archive.relisted", seller=seller, orders=recorded)
    return recorded


def record_change(engine: Engine, seller: str, item: Received) -> bool:
    """Append an `updated` event to the archived order's timeline and, if the copy is newer, refresh its
    row; False when the order is not archived (pruned meanwhile)."""
    orders, events = schema.orders, schema.order_events
    order = item.order
    with writing(engine) as conn:
        row = conn.execute(select(orders.c.id, orders.c.updated_at, orders.c.ship_to, orders.c.hold_reason)
                           .where(orders.c.seller == seller, orders.c.key == item.key)).first()
        if row is None:
            return False
        seq = next_event_seq(conn, row.id)
        detail = order.status.value if order is not None else "payload did not map"
        now = utc_now()
        new_events = [{"kind": EventKind.UPDATED.value, "addresses": None,
                       "detail": f"listed again after archiving: {detail}"}]
        values: dict = {}
        if order is not None and order.updated_at >= row.updated_at:
            raw, codec = compress_raw(item.raw)
            values.update(platform_status=order.platform_status, status=order.status.value,
                          updated_at=order.updated_at, payload_hash=item.payload_hash, raw=raw, raw_codec=codec)
        late = (late_address_hold(conn, row.id, row.ship_to, row.hold_reason, order.ship_to)
                if order is not None else None)
        if late is not None:
            values.update(late[0])
            new_events.append(late[1])
            log.warning("order.held", seller=seller, order_key=item.key, archived=True,
                        reason=HoldReason.ADDRESS_CHANGED_AFTER_SUBMIT.value)
        conn.execute(insert(events), [{"order_id": row.id, "seq": seq + i, "at": now, **event}
                                      for i, event in enumerate(new_events)])
        if values:
            conn.execute(update(orders).where(orders.c.id == row.id).values(**values))
    return True


def _archived_hashes(engine: Engine, seller: str, order_keys: Sequence[str]) -> dict[str, str]:
    """Payload hash of each of `order_keys` the archive holds; nothing from a database never migrated
    (nothing was ever archived there)."""
    if current(engine) is None:
        return {}
    orders = schema.orders
    with engine.connect() as conn:
        rows = conn.execute(select(orders.c.key, orders.c.payload_hash)
                            .where(orders.c.seller == seller, orders.c.key.in_(list(order_keys))))
        return {key: payload_hash for key, payload_hash in rows}
