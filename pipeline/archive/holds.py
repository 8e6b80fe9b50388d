"""Ops closing a hold on an archived order: the parcel that left for an old address was intercepted or
reshipped (pipeline/archive/late_address.py), and the hold has nothing left to ask.

The hold leaves the archived row and a `released` event with the operator's note joins its timeline, so
`holds list` stops showing it and `order show` says who settled it and how.
"""

from __future__ import annotations

from sqlalchemy import Engine, insert, select, update

from pipeline.archive import schema
from pipeline.archive.engine import writing
from pipeline.archive.writer import next_event_seq
from pipeline.model import EventKind, HoldReason, utc_now


def resolve_archived_hold(engine: Engine, seller: str, key: str, note: str) -> HoldReason | None:
    """Clear the hold of the archived order `key` with `note` on its timeline; the reason it had, or None
    when the archive has no such order or it is not held."""
    orders, events = schema.orders, schema.order_events
    with writing(engine) as conn:
        row = conn.execute(select(orders.c.id, orders.c.hold_reason)
                           .where(orders.c.seller == seller, orders.c.key == key)).first()
        if row is None or row.hold_reason is None:
            return None
        seq = next_event_seq(conn, row.id)
        conn.execute(insert(events), [{"order_id": row.id, "seq": seq, "at": utc_now(), "addresses": None,
                                       "kind": EventKind.RELEASED.value,
                                       "detail": f"{row.hold_reason} resolved by ops: {note}"}])
        conn.execute(update(orders).where(orders.c.id == row.id).values(hold_reason=None, hold_detail=None))
    return HoldReason(row.hold_reason)
