"""Warehouse connectors against their emulators over real HTTP: once-only creates, cancellations.

The emulators drop the answer of half the creates after performing them; the connector must look
the reference up before trying again, so each emulator's own count per reference stays at 1.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from config.schema import RoutingConfig, SellerConfig, WarehouseConfig
from connectors.ratelimit import RateLimiter
from connectors.warehouses.registry import WAREHOUSES
from pipeline.dispatch import cancel_order, submissions, submit_order
from pipeline.fulfilment import TRACKING_OVERDUE, mark_tracking_pushed, overdue_tracking, poll_shipments
from pipeline.identity import outbound_reference
from pipeline.model import HoldReason, OrderStatus, StockLevel
from pipeline.release import Outcome, route_order
from pipeline.stock import StockLedger
from sandbox import SandboxClock
from sandbox.fourpx.emulator import FourPXEmulator
from sandbox.shipbob.emulator import ShipBobEmulator
from tests.factories import received
from tests.pipeline.helpers import order

SKU = "OH-CPO"


def _emulator(kind: str):
    clock = SandboxClock(start=datetime.now(UTC), factor=0)
    return FourPXEmulator(clock=clock) if kind == "fourpx" else ShipBobEmulator(clock=clock)


def _warehouse(kind: str, url: str) -> WarehouseConfig:
    return WarehouseConfig(id=f"{kind}-1", kind=kind, credentials={}, countries=["US"], base_url=url,
                           options={"warehouse_code": "USNJ01", "logistics_product_code": "F4PX-US"})


def _wire(kind, emulator, redis_client, prefix):
    wh = _warehouse(kind, emulator.url)
    secrets = ({"app_key": emulator.credentials.app_key, "app_secret": emulator.credentials.app_secret}
               if kind == "fourpx" else {"token": emulator.credentials.token, "channel_id": emulator.credentials.channel_id})
    client = WAREHOUSES[kind].client(wh, secrets, RateLimiter(redis_client, prefix))
    cfg = SellerConfig(seller="acme", warehouses=[wh], routing=RoutingConfig())
    ledger = StockLedger(redis_client, prefix)
    now = datetime.now(UTC)
    ledger.apply_snapshot("acme", wh.id, [StockLevel(warehouse=wh.id, seller_sku=SKU, on_hand=100, as_of=now)], now)
    return cfg, {wh.id: client}, ledger


def _route_and_submit(store, ledger, cfg, clients, n):
    o = order(n, [(SKU, 1)])
    store.upsert("acme", [received(o)])
    assert route_order(store, ledger, cfg, o.key).outcome is Outcome.ROUTED
    submitted = submit_order(store, ledger, cfg, o.key, clients)
    assert len(submitted) == 1, store.get("acme", o.key).hold
    return o


@pytest.mark.parametrize("kind", sorted(WAREHOUSES))
def test_dropped_create_answers_never_create_a_second_outbound(kind, store, redis_client, prefix):
    with _emulator(kind) as emulator:
        emulator.configure_faults(drop_response_rate=0.5, seed=4, operations=["fu.wms.outbound.create", "createOrder"])
        cfg, clients, ledger = _wire(kind, emulator, redis_client, prefix)
        keys = [_route_and_submit(store, ledger, cfg, clients, n).key for n in range(30)]
        # A retried task submits again: still one outbound order per reference.
        for key in keys[:10]:
            submit_order(store, ledger, cfg, key, clients)
        counts = emulator.count_by_reference()
        injected = emulator.counters.snapshot()
        assert sum(c.get("injected", 0) for c in injected.values()) >= 5  # answers really were dropped
        assert len(counts) == 30 and set(counts.values()) == {1}
        assert {sub.reference for key in keys for sub in submissions(store, "acme", key).values()} == set(counts)


@pytest.mark.parametrize("kind", sorted(WAREHOUSES))
def test_cancellation_before_shipment_cancels_and_after_shipment_is_flagged(kind, store, redis_client, prefix):
    with _emulator(kind) as emulator:
        cfg, clients, ledger = _wire(kind, emulator, redis_client, prefix)
        early, late = (_route_and_submit(store, ledger, cfg, clients, n) for n in (1, 2))
        emulator.ship_now(outbound_reference(late.key, f"{kind}-1"))
        for o in (early, late):
            store.upsert("acme", [received(order(int(o.external_id[-7:]), [(SKU, 1)],
                                                 status=OrderStatus.CANCELLED, version=5))])
            cancel_order(store, ledger, cfg, o.key, clients)
        assert emulator.cancellations == [outbound_reference(early.key, f"{kind}-1")]
        assert store.get("acme", early.key).hold is None and store.get("acme", early.key).stage == "cancelled"
        hold = store.get("acme", late.key).hold
        assert hold.reason is HoldReason.CANCEL_TOO_LATE and "shipped" in hold.detail
        assert ledger.totals("acme", f"{kind}-1")[SKU]["reserved"] == 0


@pytest.mark.parametrize("kind", sorted(WAREHOUSES))
def test_shipments_and_inventory_come_back_from_the_warehouse(kind, store, redis_client, prefix):
    with _emulator(kind) as emulator:
        cfg, clients, ledger = _wire(kind, emulator, redis_client, prefix)
        client = clients[f"{kind}-1"]
        since = emulator.clock.now()
        shipped, waiting = (_route_and_submit(store, ledger, cfg, clients, n) for n in (1, 2))
        emulator.clock.advance(60)
        emulator.ship_now(outbound_reference(shipped.key, f"{kind}-1"))
        found = {s.reference: s for s in client.shipments_since(since)}
        (only,) = found.values()
        assert only.reference == outbound_reference(shipped.key, f"{kind}-1") and only.state == "SHIPPED"
        assert only.tracking_number and only.carrier and only.shipped_at is not None
        assert only.lines and only.lines[0].seller_sku == SKU
        assert outbound_reference(waiting.key, f"{kind}-1") not in found
        levels = {level.seller_sku: level.on_hand for level in client.inventory()}
        # 200 units seeded; one shipped; the waiting order's unit is still on the shelf.
        assert levels[SKU] == 199 and len(levels) >= 40


@pytest.mark.parametrize("kind", sorted(WAREHOUSES))
def test_an_order_the_platform_shipped_before_submission_is_not_sent_and_frees_its_stock(kind, store, redis_client,
                                                                                         prefix):
    """Found by the chaos run: AliExpress showed a routed order shipped (no address on that copy)
    before its submission ran; submitting it raised and took the rest of the batch down with it."""
    with _emulator(kind) as emulator:
        cfg, clients, ledger = _wire(kind, emulator, redis_client, prefix)
        o = order(3, [(SKU, 2)])
        store.upsert("acme", [received(o)])
        assert route_order(store, ledger, cfg, o.key).outcome is Outcome.ROUTED
        store.upsert("acme", [received(order(3, [(SKU, 2)], address=None, status=OrderStatus.SHIPPED, version=5))])
        assert submit_order(store, ledger, cfg, o.key, clients) == {}
        assert emulator.count_by_reference() == {}
        stored = store.get("acme", o.key)
        assert stored.stage == "ignored" and stored.hold is None
        assert ledger.totals("acme", f"{kind}-1")[SKU]["reserved"] == 0


@pytest.mark.parametrize("kind", sorted(WAREHOUSES))
def test_a_routed_order_whose_address_vanished_is_held_not_sent(kind, store, redis_client, prefix):
    with _emulator(kind) as emulator:
        cfg, clients, ledger = _wire(kind, emulator, redis_client, prefix)
        o = order(4, [(SKU, 1)])
        store.upsert("acme", [received(o)])
        assert route_order(store, ledger, cfg, o.key).outcome is Outcome.ROUTED
        store.upsert("acme", [received(order(4, [(SKU, 1)], address=None, version=5))])
        assert submit_order(store, ledger, cfg, o.key, clients) == {}
        assert emulator.count_by_reference() == {}
        assert store.get("acme", o.key).hold.reason is HoldReason.ADDRESS_INCOMPLETE
        assert ledger.totals("acme", f"{kind}-1")[SKU]["reserved"] == 0


class CutOff(Exception):
    """Stands for the task's soft time limit landing in the middle of a poll."""


def test_a_shipment_poll_cut_off_keeps_the_slices_it_read_and_the_next_resumes_after_them(store, redis_client, prefix):
    """Found by the 100,000-order chaos run: after a burst of submissions the 4PX list since the
    cursor held thousands of outbound orders, every poll hit its time limit before it recorded any,
    and shipped orders kept their stock reserved and their tracking unpushed for good."""
    with _emulator("fourpx") as emulator:
        cfg, clients, ledger = _wire("fourpx", emulator, redis_client, prefix)
        client = clients["fourpx-1"]
        start = emulator.clock.now()
        orders = [_route_and_submit(store, ledger, cfg, clients, n) for n in range(4)]
        for o, minutes in zip(orders, (10, 70, 130, 190), strict=True):  # shipped an hour apart
            emulator.clock.advance(minutes * 60 - (emulator.clock.now() - start).total_seconds())
            emulator.ship_now(outbound_reference(o.key, "fourpx-1"))
        now = emulator.clock.now() + timedelta(minutes=5)
        store.set_cursor("acme", "fourpx-1", start, "shipments")
        # 4PX bounds the completion time on both ends: a slice reads its own shipments only.
        (first,) = client.shipments_since(start, start + timedelta(hours=1))
        assert first.reference == outbound_reference(orders[0].key, "fourpx-1")

        windows: list[tuple[datetime, datetime | None]] = []
        cut_at = [3]

        class Slow:  # the real client, with the time limit striking on the third read of the first poll
            bounds_shipment_reads = True

            def shipments_since(self, since, until=None):
                windows.append((since, until))
                if len(windows) == cut_at[0]:
                    raise CutOff
                return client.shipments_since(since, until)

        with pytest.raises(CutOff):
            poll_shipments(store, ledger, "acme", "fourpx-1", Slow(), now=now, slice_length=timedelta(hours=1))
        # Read: the overlap before the cursor, then the first hour; the second hour was cut off.
        assert windows[:2] == [(start - timedelta(minutes=30), start), (start, start + timedelta(hours=1))]
        assert store.cursor("acme", "fourpx-1", "shipments") == start + timedelta(hours=1)
        assert store.get("acme", orders[0].key).stage == "shipped"
        assert [store.get("acme", o.key).stage for o in orders[1:]] == ["submitted"] * 3
        assert ledger.totals("acme", "fourpx-1")[SKU]["reserved"] == 3  # the first one's unit counted out

        windows.clear()
        cut_at[0] = 0
        pushed: list[str] = []
        keys = poll_shipments(store, ledger, "acme", "fourpx-1", Slow(), now=now, slice_length=timedelta(hours=1),
                              on_slice=pushed.extend)
        assert keys == pushed == [o.key for o in orders[1:]]
        # It resumed where the first poll stopped (catching up, nothing before that is read again),
        # with the slice it died in halved (and doubled again once one finished), the last left open.
        assert windows[0] == (start + timedelta(hours=1), start + timedelta(minutes=90))
        assert all(until - since <= timedelta(hours=1) for since, until in windows[1:-1])
        assert windows[-1][1] is None
        assert store.cursor("acme", "fourpx-1", "shipments") == now
        assert ledger.totals("acme", "fourpx-1")[SKU]["reserved"] == 0
        assert {store.get("acme", o.key).stage for o in orders} == {"shipped"}
        # Polled again: nothing new is recorded, nothing counted out twice.
        assert poll_shipments(store, ledger, "acme", "fourpx-1", client, now=now + timedelta(minutes=1)) == []
        assert ledger.totals("acme", "fourpx-1")[SKU]["shipped"] == 4


def test_a_shipment_whose_tracking_push_was_lost_is_offered_again_until_it_is_settled(store, redis_client, prefix):
    """A worker killed between recording a shipment and queueing its tracking push left the push
    lost for good: the shipment was recorded, so no later poll returned it again."""
    with _emulator("fourpx") as emulator:
        cfg, clients, ledger = _wire("fourpx", emulator, redis_client, prefix)
        o = _route_and_submit(store, ledger, cfg, clients, 7)
        emulator.ship_now(outbound_reference(o.key, "fourpx-1"))
        now = datetime.now(UTC)
        # Recorded, and the push never queued (no on_slice): the process died right there.
        assert poll_shipments(store, ledger, "acme", "fourpx-1", clients["fourpx-1"], now=now) == [o.key]
        assert overdue_tracking(store, "acme", "fourpx-1", now) == []  # its push may still be on its way
        later = now + TRACKING_OVERDUE + timedelta(seconds=5)
        assert overdue_tracking(store, "acme", "fourpx-1", later) == [o.key]
        assert overdue_tracking(store, "acme", "fourpx-1", later + timedelta(minutes=1)) == []  # offered once
        assert overdue_tracking(store, "acme", "fourpx-1", later + TRACKING_OVERDUE) == [o.key]
        mark_tracking_pushed(store, "acme", o.key, "fourpx-1")
        assert overdue_tracking(store, "acme", "fourpx-1", later + 3 * TRACKING_OVERDUE) == []


@pytest.mark.parametrize("kind", sorted(WAREHOUSES))
def test_a_ship_to_changed_after_submission_is_followed_or_held_never_shipped_stale_unseen(
        kind, store, redis_client, prefix):
    """The pipeline's side of an address change (pipeline/address_changes.py) against each emulator:
    ShipBob takes it before the pick (its published updateAddress call), so the parcel leaves for the new
    door; 4PX publishes no update call, so the order is held ADDRESS_CHANGED_AFTER_SUBMIT with both
    addresses on the timeline while the parcel leaves for the old one."""
    import msgspec

    from pipeline.model import EventKind
    from sandbox.core.control import destination_fingerprint

    with _emulator(kind) as emulator:
        cfg, clients, ledger = _wire(kind, emulator, redis_client, prefix)
        o = _route_and_submit(store, ledger, cfg, clients, 7)
        moved = msgspec.structs.replace(o.ship_to, line1="9 Elm Rd", city="Dallas", postal_code="75201")
        store.upsert("acme", [received(msgspec.structs.replace(o, ship_to=moved,
                                                               updated_at=o.updated_at + timedelta(minutes=5)))])
        submit_order(store, ledger, cfg, o.key, clients)
        (truth,) = emulator.outbound_truth()
        new = destination_fingerprint("9 Elm Rd", "Dallas", moved.region, "75201", "US")
        stored = store.get("acme", o.key)
        changed = [e for e in store.timeline("acme", o.key) if e.kind is EventKind.ADDRESS_CHANGED]
        if kind == "shipbob":
            assert truth["ship_to_fingerprint"] == new and stored.hold is None
            assert "now ships to the changed address" in changed[-1].detail
        else:
            assert truth["ship_to_fingerprint"] != new
            assert stored.hold.reason is HoldReason.ADDRESS_CHANGED_AFTER_SUBMIT
            assert changed[-1].addresses["now"] == moved and changed[-1].addresses["sent"] == o.ship_to
        assert submissions(store, "acme", o.key)[f"{kind}-1"].state != "CANCELLED"
