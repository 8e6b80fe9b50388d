"""Buyer data leaves the archive `retention.pii_days` after an order closed; its numbers and place stay."""

from __future__ import annotations

from datetime import timedelta

from pipeline.archive import archive_orders, get_order
from pipeline.archive.scrub import scrub_pii
from tests.archive.helpers import archived, dump

SELLER = "acme"


def test_orders_closed_before_the_horizon_lose_name_street_raw_and_timeline_addresses_and_keep_the_rest(engine):
    old = archived(1)
    recent = archived(2, placed=old.placed_at + timedelta(days=40))
    archive_orders(engine, [old, recent])
    horizon = old.closed_at + timedelta(seconds=1)
    assert scrub_pii(engine, SELLER, horizon) == 1

    gone = get_order(engine, SELLER, old.key)
    assert gone.raw == b"" and gone.ship_to is not None
    assert (gone.ship_to.country, gone.ship_to.region, gone.ship_to.city) == ("US", "TX", "Austin")
    assert gone.ship_to.name is None and gone.ship_to.line1 is None and gone.ship_to.postal_code is None
    assert all(not event.addresses for event in gone.timeline)
    assert gone.totals == old.totals and gone.lines == old.lines and gone.payload_hash == old.payload_hash
    assert [s.tracking_number for s in gone.shipments] == [s.tracking_number for s in old.shipments]

    kept = get_order(engine, SELLER, recent.key)
    assert kept.raw and kept.ship_to.name == "Jane Placeholder"
    assert any(event.addresses for event in kept.timeline)

    before = dump(engine)
    assert scrub_pii(engine, SELLER, horizon) == 0  # scrubbed once: the index leaves it out
    assert dump(engine) == before
    assert scrub_pii(engine, "globex", horizon + timedelta(days=400)) == 0  # another seller's orders untouched
