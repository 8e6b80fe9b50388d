"""Buyer data out of the archive once an order no longer needs it: `retention.pii_days` after it closed.

Amazon's Data Protection Policy lets a developer keep buyer PII only as long as fulfilling the order
needs it, and no longer than 30 days after shipment (docs/platforms/amazon.md); data-protection law asks
the same in spirit of every platform's buyers. The archive keeps buyer data in three places only
(pipeline/archive/schema.py): `orders.ship_to`, `orders.raw` and `order_events.addresses`. Scrubbing
an order keeps its numbers and its place: the ship-to keeps country, region and city (where it went,
for analysis and tax), loses name, company, street lines, postcode, phone and e-mail; the raw payload
is removed (codec `scrubbed`, read back empty); the timeline's address pairs are cleared. Its payload
hash stays, so a late re-listing is still recognised. An order listed again after it was scrubbed takes
the new payload (pipeline/archive/relisted.py) and the next run scrubs it again.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
import structlog
from sqlalchemy import Engine, bindparam, select, update

from pipeline.archive import schema
from pipeline.archive.engine import writing
from pipeline.archive.records import SCRUBBED
from pipeline.model import Address

log = structlog.get_logger()

BATCH = 1000
"""Orders per transaction: a first scrub of years of history must not hold one lock for minutes."""
KEPT = ("country", "region", "city")
"""What a scrubbed ship-to keeps: where the parcel went, never to whom or to which door."""
_ADDRESS = msgspec.json.Decoder(Address)
_JSON = msgspec.json.Encoder()


def place_only(ship_to: str | None) -> str | None:
    """An archived ship-to (JSON) with only its place left."""
    if ship_to is None:
        return None
    address = _ADDRESS.decode(ship_to)
    kept = Address(**{field: getattr(address, field) for field in KEPT}, pii_complete=False)
    return _JSON.encode(kept).decode()


def scrub_pii(engine: Engine, seller: str, closed_before: datetime) -> int:
    """Scrub the buyer data of the seller's archived orders closed before `closed_before`; returns how many.
    Index: ix_orders_unscrubbed (only rows not yet scrubbed are read)."""
    orders, events = schema.orders, schema.order_events
    scrubbed = 0
    while True:
        with writing(engine) as conn:
            rows = conn.execute(select(orders.c.id, orders.c.ship_to)
                                .where(orders.c.seller == seller, orders.c.raw_codec != SCRUBBED,
                                       orders.c.closed_at < closed_before)
                                .limit(BATCH)).all()
            if not rows:
                break
            conn.execute(update(orders).where(orders.c.id == bindparam("order_id"))
                         .values(ship_to=bindparam("place"), raw=b"", raw_codec=SCRUBBED),
                         [{"order_id": row.id, "place": place_only(row.ship_to)} for row in rows])
            conn.execute(update(events).where(events.c.order_id.in_([row.id for row in rows]),
                                              events.c.addresses.is_not(None)).values(addresses=None))
        scrubbed += len(rows)
    if scrubbed:
        log.info("archive.scrubbed", seller=seller, orders=scrubbed, closed_before=closed_before.isoformat())
    return scrubbed
