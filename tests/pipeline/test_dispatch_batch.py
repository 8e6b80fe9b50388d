"""A dispatch batch (workers/dispatch.py submit_orders) reads its orders in one round trip and writes its
submissions in one transaction, with the same records, stages and timelines as one order at a time."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.dispatch import submit_order
from pipeline.identity import outbound_reference, reference_owner
from pipeline.model import StockLevel
from pipeline.route_batch import route_batch
from pipeline.stages import Stage
from pipeline.stock import StockLedger
from pipeline.store import OrderStore
from pipeline.submissions import Records, preload, submissions
from tests.factories import received
from tests.pipeline.helpers import order, seller
from tests.pipeline.test_address_changes import Warehouse

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _routed(store: OrderStore, ledger: StockLedger, n: int) -> list[str]:
    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG", on_hand=50, as_of=NOW)], NOW)
    orders = [order(i, [("MUG", 1)]) for i in range(n)]
    store.upsert("acme", [received(o) for o in orders])
    route_batch(store, ledger, seller(), [o.key for o in orders])
    return [o.key for o in orders]


def test_a_batch_submits_and_records_as_one_order_at_a_time_does(store, redis_client, prefix):
    ledger, cfg, east = StockLedger(redis_client, prefix), seller(), Warehouse()
    keys = _routed(store, ledger, 4)
    alone = keys[0]
    submit_order(store, ledger, cfg, alone, {"east": east})
    preloaded, batch = preload(store, ledger, "acme", keys[1:]), Records(store, "acme")
    for key in keys[1:]:
        submit_order(store, ledger, cfg, key, {"east": east}, preloaded=preloaded[key], batch=batch)
    assert submissions(store, "acme", keys[1]) == {}  # written when the batch ends
    batch.flush()
    for key in keys:
        (sub,) = submissions(store, "acme", key).values()
        assert sub.reference == outbound_reference(key, "east")
        assert reference_owner(store, "acme", sub.reference) == key
        assert store.get("acme", key).stage == Stage.SUBMITTED
        assert [e.kind.value for e in store.timeline("acme", key)] == ["received", "routed", "submitted"]
    assert store.event_counts("acme")["submitted"] == 4
    again = preload(store, ledger, "acme", keys)  # a re-run finds every submission and sends nothing
    batch = Records(store, "acme")
    for key in keys:
        assert set(submit_order(store, ledger, cfg, key, {"east": east}, preloaded=again[key], batch=batch)) == {"east"}
    batch.flush()
    assert len(east.ship_to) == 4
    assert store.event_counts("acme")["submitted"] == 4
