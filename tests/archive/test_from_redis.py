"""An order goes from the Redis store into the archive with everything Orderhub did with it."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from config.schema import SkuMapConfig
from pipeline import keys, submissions
from pipeline.archive import NotArchivable, Tracking, archive_orders, collect, get_order
from pipeline.fulfilment import mark_tracking_pushed
from pipeline.model import EventKind, Shipment, ShipmentLine
from pipeline.stages import Stage
from pipeline.store import Received
from tests.archive.helpers import order
from tests.factories import received


def test_a_shipped_order_is_collected_from_redis_and_archived_whole(engine, store):
    canonical = msgspec.structs.replace(order(21), lines=tuple(
        msgspec.structs.replace(line, seller_sku=None) for line in order(21).lines))  # as a platform sends it
    store.upsert("acme", [received(canonical, raw={"id": canonical.external_id, "buyer": "Jane Placeholder"})])
    sub = submissions.Submission("east", "OH-AMA-21", "R21", "SHIPPED")
    submissions.record(store, "acme", canonical.key, sub, submitted="east ref OH-AMA-21 (R21)", last=True)
    shipment = Shipment(order_key=canonical.key, warehouse="east", carrier="UPS", tracking_number="1Z21",
                        shipped_at=canonical.placed_at + timedelta(hours=5), lines=(ShipmentLine("MUG-01", 2),))
    store.redis.hset(keys.shipments(store.prefix, "acme", canonical.key), "east", msgspec.json.encode(shipment))
    store.set_stage("acme", canonical.key, Stage.SHIPPED)
    mark_tracking_pushed(store, "acme", canonical.key, "east")

    closed = canonical.placed_at + timedelta(days=3)
    record = collect(store, "acme", canonical.key, closed_at=closed,
                     sku_map=SkuMapConfig(skus={"P-MUG-01": "MUG-01"}))
    assert archive_orders(engine, [record]) == 1
    back = get_order(engine, "acme", canonical.key)
    assert back == record
    assert back.raw == received(canonical, raw={"id": canonical.external_id, "buyer": "Jane Placeholder"}).raw
    assert (back.stage, back.closed_at, back.hold) == ("shipped", closed, None)
    assert [(line.seller_sku, line.warehouse) for line in back.lines] == [("MUG-01", "east")]
    assert back.submissions[0].submitted_at is not None and back.submissions[0].reference == "OH-AMA-21"
    assert back.shipments[0].tracking == Tracking.PUSHED and back.shipments[0].tracking_pushed_at is not None
    assert back.shipments[0].lines == (ShipmentLine("MUG-01", 2),)
    assert [event.kind for event in back.timeline] == [EventKind.RECEIVED, EventKind.NOTE, EventKind.SUBMITTED,
                                                        EventKind.TRACKING_PUSHED]  # the note: the mapping's


def test_an_order_not_stored_is_none_and_one_that_never_mapped_is_not_archivable(engine, store):
    assert collect(store, "acme", "amazon:shop-1:nope") is None
    broken = Received(key="amazon:shop-1:BROKEN", platform="amazon", shop_id="shop-1", raw=b"{", payload_hash="h",
                      updated_at=None, error="order: not JSON")
    store.upsert("acme", [broken])
    with pytest.raises(NotArchivable, match="never mapped"):
        collect(store, "acme", broken.key)
    assert get_order(engine, "acme", broken.key) is None
