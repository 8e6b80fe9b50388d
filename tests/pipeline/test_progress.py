"""Where each order stands, read from the store and the fulfilment's own index: what the demo waits on
before it calls the pipeline quiet, and what it prints when it gives up."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline import keys
from pipeline.fulfilment import mark_tracking_pushed, mark_tracking_refused, record_shipments
from pipeline.model import HoldReason, OrderStatus
from pipeline.ports import OutboundLine, OutboundStatus
from pipeline.progress import place, progress
from pipeline.stock import StockLedger
from pipeline.store import OrderState
from pipeline.submissions import Submission
from pipeline.submissions import record as _record
from tests.factories import received
from tests.pipeline.helpers import order


def test_each_order_stands_in_one_place():
    def at(status: str, stage: str, hold: str | None = None) -> str:
        return place(OrderState("k", status, stage, hold))

    assert at("READY", "received") == "to route"
    assert at("READY", "routed") == "to submit"
    assert at("READY", "submitted") == "at warehouse"
    assert at("READY", "shipped") == "shipped"
    assert at("READY", "held", "UNKNOWN_SKU") == "held"
    assert at("UNMAPPED", "received", "INVALID_PAYLOAD") == "held"
    assert at("UNMAPPED", "received") == "to route"
    assert at("PENDING", "received") == "awaiting platform"
    assert at("CANCELLED", "received") == "cancelled"
    assert at("READY", "ignored") == "ignored"
    assert at("SHIPPED", "received") == "shipped elsewhere"


def _shipped(store, ledger, key: str, warehouse: str) -> None:
    reference = f"ref-{key[-7:]}-{warehouse}"
    _record(store, "acme", key, Submission(warehouse, reference, "remote-1", "OPEN"), last=True)
    status = OutboundStatus(reference=reference, remote_id="remote-1", state="SHIPPED", carrier="UPS",
                            tracking_number=f"1Z{key[-7:]}", shipped_at=datetime(2026, 12, 1, tzinfo=UTC),
                            lines=(OutboundLine("MUG", 1),))
    assert record_shipments(store, ledger, "acme", warehouse, [status]) == [key]


def test_progress_counts_places_warehouses_holds_and_tracking_still_due(store, redis_client, prefix):
    ledger = StockLedger(redis_client, prefix)
    orders = [order(n, [("MUG", 1)]) for n in range(1, 7)]
    orders.append(order(7, [("MUG", 1)], status=OrderStatus.PENDING))
    store.upsert("acme", [received(o) for o in orders])
    order_keys = [o.key for o in orders]
    store.set_stage("acme", order_keys[1], "routed")
    _record(store, "acme", order_keys[2], Submission("east", "ref-east-3", "remote-3", "OPEN"), last=True)
    store.hold("acme", order_keys[3], HoldReason.UNKNOWN_SKU, "MUG? is not in the SKU map")
    for key in order_keys[4:6]:
        _shipped(store, ledger, key, "west")
    # A key family of another owner that a pattern scan for "*:shipments:*" would have counted:
    redis_client.set(keys.cursor_read_at(prefix, "acme", "west", "shipments"), "2026-12-01T00:00:00+00:00")

    seen = progress(store, "acme", ["east", "west"])
    assert seen.places == {"to route": 1, "to submit": 1, "at warehouse": 1, "held": 1, "shipped": 2,
                           "awaiting platform": 1}
    assert seen.stored == 7 and seen.platforms == {"amazon": 7}
    assert seen.warehouses == {"east": 1, "west": 2}
    assert seen.holds == {"UNKNOWN_SKU": 1}
    assert seen.tracking_due == 2
    assert seen.open == {"to route": 1, "to submit": 1, "at warehouse": 1, "tracking to push": 2}

    mark_tracking_pushed(store, "acme", order_keys[4], "west")
    mark_tracking_refused(store, "acme", order_keys[5], "west", "already shipped on the platform")
    assert progress(store, "acme", ["east", "west"]).tracking_due == 0
