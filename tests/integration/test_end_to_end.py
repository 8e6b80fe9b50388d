"""The main job for real: worker and beat processes on a real Redis, emulators on loopback.

Orders flow from the Amazon, TikTok, TEMU, SHEIN and AliExpress emulators through sync, routing and dispatch to the 4PX and
ShipBob emulators, which ship them; tracking flows back to the platforms. One worker is killed
with SIGKILL mid-run and replaced. A buyer cancels a submitted order on TikTok, and the warehouse
must see the cancellation. The end state: every eligible order submitted exactly once, every
shipped outbound's tracking on its platform, every other order held with a reason or ignored,
no stock oversold.
"""

from __future__ import annotations

import redis

from pipeline import keys
from pipeline.fulfilment import tracking_was_pushed
from pipeline.identity import reference_owner
from pipeline.model import EventKind as TimelineKind
from pipeline.model import FulfilledBy, OrderStatus
from pipeline.stock import StockLedger
from pipeline.store import OrderStore
from pipeline.submissions import submissions
from sandbox.core.generator import EventKind, OrderEvent
from tests.integration.conftest import PREFIX
from tests.integration.workers import QUEUES, WorkerProcess, wait_until

PLATFORMS = ("amazon", "tiktok", "temu", "shein", "aliexpress")


def _queues_empty(client: redis.Redis) -> bool:
    return all(client.llen(q) == 0 for q in QUEUES) and client.hlen("unacked") == 0


def test_orders_flow_to_warehouses_and_tracking_back_through_a_worker_kill(world):
    emulators, env, client, tmp = world
    store, ledger = OrderStore(client, PREFIX), StockLedger(client, PREFIX)
    procs = [WorkerProcess(env, "w1", log_dir=tmp), WorkerProcess(env, "w2", log_dir=tmp),
             WorkerProcess(env, "beat", beat=True, log_dir=tmp)]
    try:
        def submitted_keys() -> list[str]:
            return [keys.submitted.order_key_of(PREFIX, "acme", k)
                    for k in client.scan_iter(match=keys.submitted.pattern(PREFIX, "acme"))]

        wait_until(lambda: len(submitted_keys()) >= 3 and any(k.startswith("tiktok:") for k in submitted_keys()),
                   90, what="first submissions, a TikTok one among them")
        procs[0].kill()  # SIGKILL mid-run: whatever it held is redelivered to the others
        procs.append(WorkerProcess(env, "w3", log_dir=tmp))

        # A buyer cancels one submitted TikTok order before the warehouse ships it.
        tiktok = emulators["tiktok"]
        victim = next(k for k in submitted_keys() if k.startswith("tiktok:"))
        now = tiktok.clock.now()
        tiktok.orders[victim.rsplit(":", 1)[1]].add_event(OrderEvent(EventKind.CANCELLED, now, now, initiator="BUYER"))
        (victim_sub,) = submissions(store, "acme", victim).values()

        def warehouses_quiet() -> bool:
            shipped = _shipped(emulators)
            pushed = all(tracking_was_pushed(store, "acme", _owner(client, ref), wh) or _refused(client, ref, wh)
                         for wh, ref in shipped)
            return bool(shipped) and pushed and not _open_outbounds(emulators) and _queues_empty(client)

        wait_until(warehouses_quiet, 240, interval=1, what="every outbound shipped and its tracking pushed")
    finally:
        for proc in procs:
            proc.stop()

    fourpx, shipbob = emulators["fourpx"], emulators["shipbob"]
    counts = fourpx.count_by_reference() | shipbob.count_by_reference()
    assert counts and set(counts.values()) == {1}, "a second outbound order for one reference"
    assert victim_sub.reference in fourpx.cancellations + shipbob.cancellations

    eligible = held = ignored = 0
    for raw_key in client.scan_iter(match=keys.order.pattern(PREFIX, "acme")):
        key = keys.order.order_key_of(PREFIX, "acme", raw_key)
        stored = store.get("acme", key)
        timeline = store.timeline("acme", key)
        first_status = timeline[0].detail
        if stored.order is not None and stored.order.fulfilled_by is FulfilledBy.PLATFORM:
            ignored += stored.stage == "ignored"
            continue
        if first_status not in ("READY", "PARTIALLY_SHIPPED"):
            continue
        subs = submissions(store, "acme", key)
        if stored.hold is not None:
            held += 1
            assert stored.hold.detail
        elif not subs and stored.order.status in (OrderStatus.CANCELLED, OrderStatus.SHIPPED) and \
                not any(e.kind is TimelineKind.ROUTED for e in timeline):
            continue  # cancelled, or shipped by the platform's own script, before routing reached it
        else:
            eligible += 1
            assert len(subs) == 1, (key, subs, stored.order.status, [(e.kind, e.detail) for e in timeline])
    # Every order is either at exactly one warehouse or held with a reason (none of these needs to wait:
    # since TikTok shows US recipients in the clear, nothing here holds for an address).
    assert eligible >= 5

    pushed = {name: [p for p in emulators[name].pushed("tracking") if p["accepted"]] for name in PLATFORMS}
    # A platform may refuse tracking for an order its own script shipped meanwhile: recorded, not lost.
    refused = sum(_refused(client, ref, wh) for wh, ref in _shipped(emulators))
    assert sum(map(len, pushed.values())) + refused == len(_shipped(emulators))
    assert all(pushed.values()), f"tracking reached every platform: { {n: len(p) for n, p in pushed.items()} }"
    for wh in ("4px-us", "shipbob-us"):
        for sku, row in ledger.totals("acme", wh).items():
            assert row["reserved"] + row["shipped"] <= row["on_hand"], (wh, sku, row)
    assert min(fourpx.on_hand.values()) >= 0 and min(shipbob.on_hand.values()) >= 0  # never shipped what it lacked
    assert ignored > 0  # platform-fulfilled orders were recorded and left alone
    # SHEIN hears that the seller took an order on once a warehouse accepted it, and only then.
    shein_submitted = {k.rsplit(":", 1)[1] for k in submitted_keys() if k.startswith("shein:")}
    assert shein_submitted and set(emulators["shein"].acknowledged) == shein_submitted


def _shipped(emulators) -> list[tuple[str, str]]:
    """(warehouse id, client reference) of every outbound a warehouse emulator has shipped."""
    return [("4px-us", o.ref_no) for o in emulators["fourpx"].outbounds.values() if o.status == "C"] + \
        [("shipbob-us", o.reference_id) for o in emulators["shipbob"].sb_orders.values() if o.status == "Completed"]


def _open_outbounds(emulators) -> bool:
    return any(o.status in ("S", "P") for o in emulators["fourpx"].outbounds.values()) or \
        any(o.status == "Processing" for o in emulators["shipbob"].sb_orders.values())


def _owner(client: redis.Redis, reference: str) -> str:
    return reference_owner(OrderStore(client, PREFIX), "acme", reference) or ""


def _refused(client: redis.Redis, reference: str, warehouse: str) -> bool:
    return bool(client.hexists(keys.tracking_refused(PREFIX, "acme", _owner(client, reference)), warehouse))
