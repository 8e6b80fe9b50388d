"""A ship-to changed after submission goes to the warehouse while it can take it, else the order is held.

The warehouse here is a stand-in that answers as the port promises; tests/contract/ runs the same
flow against the 4PX and ShipBob emulators.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from pipeline.address_changes import owed_dispatch, same_destination
from pipeline.dispatch import submit_order
from pipeline.identity import outbound_reference
from pipeline.model import Address, EventKind, HoldReason, StockLevel
from pipeline.ports import AddressUpdate, OutboundStatus
from pipeline.release import route_order
from pipeline.stock import StockLedger
from pipeline.submissions import submissions
from tests.factories import received
from tests.pipeline.helpers import US, order, seller

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
MOVED = msgspec.structs.replace(US, line1="9 Elm Rd", city="Dallas", postal_code="75201")


class Warehouse:
    """Takes outbounds and address changes until `picked` is set, as the port describes."""

    def __init__(self) -> None:
        self.ship_to: dict[str, Address] = {}
        self.picked = False
        self.updates = 0

    def submit(self, request):
        self.ship_to[request.reference] = request.ship_to
        return OutboundStatus(reference=request.reference, remote_id=f"R{len(self.ship_to)}", state="OPEN")

    def update_address(self, reference, ship_to):
        self.updates += 1
        if self.picked:
            return AddressUpdate(reference=reference, applied=False, state="PICKED", detail="order already picked")
        self.ship_to[reference] = ship_to
        return AddressUpdate(reference=reference, applied=True, state="OPEN")


@pytest.fixture
def submitted(store, redis_client, prefix):
    ledger, cfg, east = StockLedger(redis_client, prefix), seller(), Warehouse()
    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG", on_hand=5, as_of=NOW)], NOW)
    first = order(1, [("MUG", 1)])
    store.upsert("acme", [received(first)])
    route_order(store, ledger, cfg, first.key)
    submit_order(store, ledger, cfg, first.key, {"east": east})
    assert same_destination(submissions(store, "acme", first.key)["east"].ship_to, US)
    return first, ledger, cfg, east


def _change_address(store, address: Address, version: int = 1) -> str:
    changed = msgspec.structs.replace(order(1, [("MUG", 1)], version=version), ship_to=address)
    store.upsert("acme", [received(changed)])
    return changed.key


def test_a_change_before_pick_is_sent_to_the_warehouse(store, submitted):
    first, ledger, cfg, east = submitted
    key = _change_address(store, MOVED)
    submit_order(store, ledger, cfg, key, {"east": east})
    assert east.ship_to[outbound_reference(key, "east")] == MOVED
    assert same_destination(submissions(store, "acme", key)["east"].ship_to, MOVED)
    assert store.get("acme", key).hold is None
    event = [e for e in store.timeline("acme", key) if e.kind is EventKind.ADDRESS_CHANGED][-1]
    assert "now ships to the changed address (Austin TX 78701 US -> Dallas TX 75201 US)" in event.detail
    assert event.addresses["sent"] == US and event.addresses["now"] == MOVED
    assert "9 Elm Rd" not in event.detail and "Ann Example" not in event.detail  # the person stays out of text
    submit_order(store, ledger, cfg, key, {"east": east})  # a re-run asks nothing
    assert east.updates == 1


def test_a_change_after_pick_holds_the_order_with_both_addresses(store, submitted):
    first, ledger, cfg, east = submitted
    east.picked = True
    key = _change_address(store, MOVED)
    submit_order(store, ledger, cfg, key, {"east": east})
    hold = store.get("acme", key).hold
    assert hold.reason is HoldReason.ADDRESS_CHANGED_AFTER_SUBMIT
    assert f"east had outbound {outbound_reference(key, 'east')} (PICKED): order already picked" in hold.detail
    assert "it ships to Austin TX 78701 US, the order now goes to Dallas TX 75201 US" in hold.detail
    event = [e for e in store.timeline("acme", key) if e.kind is EventKind.ADDRESS_CHANGED][-1]
    assert event.addresses == {"sent": US, "now": MOVED}
    assert east.ship_to[outbound_reference(key, "east")] == US
    submit_order(store, ledger, cfg, key, {"east": east})
    assert east.updates == 1  # the refused address is not asked again on every update of the order


def test_a_phone_revealed_later_is_not_an_address_change(store, submitted):
    first, ledger, cfg, east = submitted
    key = _change_address(store, msgspec.structs.replace(US, phone="+1 512 555 0100", name="  ann EXAMPLE "))
    submit_order(store, ledger, cfg, key, {"east": east})
    assert east.updates == 0 and store.get("acme", key).hold is None


def test_a_change_seen_only_once_the_order_shipped_still_holds_it(store, submitted):
    """The buyer moved while the parcel was on its way and the tracking went out first: the copy Orderhub
    reads is SHIPPED with the new address. Nothing more is submitted; the order is held for ops."""
    from pipeline.model import OrderStatus

    first, ledger, cfg, east = submitted
    east.picked = True
    shipped = msgspec.structs.replace(order(1, [("MUG", 1)], version=2, status=OrderStatus.SHIPPED), ship_to=MOVED)
    store.upsert("acme", [received(shipped)])
    submit_order(store, ledger, cfg, first.key, {"east": east})
    assert store.get("acme", first.key).hold.reason is HoldReason.ADDRESS_CHANGED_AFTER_SUBMIT


def test_an_address_withheld_after_shipping_is_not_a_move(store, submitted):
    """Amazon and SHEIN stop showing name and street once an order shipped: not the buyer moving."""
    first, ledger, cfg, east = submitted
    key = _change_address(store, msgspec.structs.replace(US, name=None, line1=None, pii_complete=False))
    submit_order(store, ledger, cfg, key, {"east": east})
    assert east.updates == 0 and store.get("acme", key).hold is None


def _owed(store, ledger, cfg, key: str) -> list[str]:
    """What routing hands back to dispatch for an update of an order it routed before."""
    from pipeline.release import Outcome

    result = route_order(store, ledger, cfg, key)
    warehouses = ([a.warehouse for a in result.allocations] if result.outcome is Outcome.ALREADY_ROUTED
                  else None)
    return owed_dispatch(store, "acme", [(key, result.ship_to, warehouses)])


def test_an_update_that_moves_nothing_is_not_dispatched_again(store, submitted):
    first, ledger, cfg, east = submitted
    same = _change_address(store, msgspec.structs.replace(US, name="  ann EXAMPLE "))  # a new copy, same door
    assert _owed(store, ledger, cfg, same) == []


def test_a_moved_address_is_dispatched_again_ready_or_shipped(store, submitted):
    from pipeline.model import OrderStatus

    first, ledger, cfg, east = submitted
    assert _owed(store, ledger, cfg, _change_address(store, MOVED)) == [first.key]
    shipped = msgspec.structs.replace(order(1, [("MUG", 1)], version=3, status=OrderStatus.SHIPPED), ship_to=MOVED)
    store.upsert("acme", [received(shipped)])
    assert _owed(store, ledger, cfg, first.key) == [first.key]
    withheld = msgspec.structs.replace(order(1, [("MUG", 1)], version=4, status=OrderStatus.SHIPPED),
                                       ship_to=msgspec.structs.replace(US, name=None, line1=None, pii_complete=False))
    store.upsert("acme", [received(withheld)])
    assert store.get("acme", first.key).order.ship_to.line1 is None
    assert _owed(store, ledger, cfg, first.key) == []


def test_a_warehouse_not_yet_sent_its_part_keeps_the_order_owed(store, redis_client, prefix):
    ledger, cfg = StockLedger(redis_client, prefix), seller()
    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG", on_hand=5, as_of=NOW)], NOW)
    first = order(1, [("MUG", 1)])
    store.upsert("acme", [received(first)])
    route_order(store, ledger, cfg, first.key)  # routed, never submitted (the dispatch task was lost)
    assert _owed(store, ledger, cfg, first.key) == [first.key]
