"""A ship-to changed after submission, sent to the warehouse emulators over real HTTP.

ShipBob documents `PUT /{version}/shipment/{shipmentId}:updateAddress` for the 2026-01 and 2026-07 API
versions (https://developer.shipbob.com/api/orders/update-shipment-address,
https://developer.shipbob.com/2026-07/api/orders/update-shipment-address.md): body
`Orders.UpdateAddressRequest`, answer `{id, is_success, error{code, message}}`. A shipment is "Picked"
once status detail 100 is set (https://developer.shipbob.com/status-reference). That the update is
refused from then on is the emulator's reading (unverified; ShipBob refuses a cancel then).

4PX publishes no call that changes an outbound order (the fu.wms methods listed in
https://github.com/EalenXie/sdk-all fop-sdk/readme.md and FulfillmentClient.java, and in
https://github.com/ipking/express-4px-php-sdk src/oms: create, cancel, getlist). Its client sends
nothing, never reports an update applied, and the outbound leaves for the address it was created with:
the case the pipeline must hold for ops. Status P ("taken off the shelf") is picked (Outbound.java).
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import requests

from config.schema import WarehouseConfig
from connectors.ratelimit import RateLimiter
from connectors.warehouses.registry import WAREHOUSES
from pipeline.model import Address
from pipeline.ports import OutboundLine, OutboundRequest
from sandbox import SandboxClock
from sandbox.core.control import destination_fingerprint
from sandbox.fourpx.emulator import FourPXEmulator
from sandbox.shipbob.emulator import ShipBobEmulator

SKU = "OH-CPO"
OLD = Address(country="US", name="Ann Example", line1="1 Main St", city="Austin", region="TX",
              postal_code="78701", phone="5125550100", pii_complete=True)
NEW = Address(country="US", name="Ann Example", line1="9 Elm Rd", line2="Building C", line3="Apt 4",
              city="Dallas", region="TX", postal_code="75201", phone="5125550100", pii_complete=True)
BUYER_DATA = ("Ann", "Example", "Main St", "Elm Rd", "Building C", "Apt 4", "5125550100")


def fingerprint(address: Address) -> str:
    """The emulators' ship-to fingerprint of a canonical address: its street lines joined."""
    street = " ".join(p for p in (address.line1, address.line2, address.line3) if p)
    return destination_fingerprint(street, address.city, address.region, address.postal_code, address.country)


@contextmanager
def world(kind, redis_client, prefix, **options):
    clock = SandboxClock(start=datetime.now(UTC), factor=0)
    emulator = FourPXEmulator(clock=clock) if kind == "fourpx" else ShipBobEmulator(clock=clock)
    with emulator:
        wh = WarehouseConfig(id=f"{kind}-1", kind=kind, credentials={}, countries=["US"], base_url=emulator.url,
                             options={"warehouse_code": "USNJ01", "logistics_product_code": "F4PX-US",
                                      "rate_limit": "50"} | options)
        secrets = ({"app_key": emulator.credentials.app_key, "app_secret": emulator.credentials.app_secret}
                   if kind == "fourpx" else {"token": emulator.credentials.token,
                                             "channel_id": emulator.credentials.channel_id})
        yield emulator, WAREHOUSES[kind].client(wh, secrets, RateLimiter(redis_client, prefix))


def submit(client, reference: str) -> None:
    client.submit(OutboundRequest(reference=reference, order_key=f"amazon:acme-us:{reference}", platform="amazon",
                                  external_id=reference, lines=(OutboundLine(SKU, 1),), ship_to=OLD, currency="USD"))


def truth(emulator, reference: str) -> dict:
    (row,) = [r for r in emulator.outbound_truth() if r["reference"] == reference]
    return row


def calls(emulator) -> dict[str, int]:
    return {op: c["calls"] for op, c in emulator.counters.snapshot().items()}


def assert_no_buyer_data(text: str) -> None:
    assert not [word for word in BUYER_DATA if word.casefold() in text.casefold()], text


# --- ShipBob --------------------------------------------------------------------------------------

def test_shipbob_update_before_pick_is_applied_and_the_parcel_leaves_for_the_new_address(redis_client, prefix):
    with world("shipbob", redis_client, prefix) as (emulator, client):
        submit(client, "R1")
        update = client.update_address("R1", NEW)
        assert (update.applied, update.state, update.detail) == (True, "OPEN", "")
        # The connector speaks 1.0 by default; the update and its look-up went out under 2026-01.
        assert calls(emulator)["updateShipmentAddress"] == 1
        assert truth(emulator, "R1")["ship_to"]["street"] == "9 Elm Rd Building C Apt 4"  # no line dropped
        shipped = emulator.ship_now("R1")
        assert shipped["shipped_to_fingerprint"] == fingerprint(NEW) != fingerprint(OLD)
        assert [(u["applied"], u["fingerprint"]) for u in shipped["address_updates"]] == [(True, fingerprint(NEW))]


def test_shipbob_update_after_pick_is_refused_in_its_words_and_the_parcel_keeps_the_old_address(redis_client, prefix):
    with world("shipbob", redis_client, prefix) as (emulator, client):
        submit(client, "R1")
        assert emulator.pick_now("R1")["picked"]
        update = client.update_address("R1", NEW)
        assert (update.applied, update.state) == (False, "PICKED")
        assert update.detail.startswith("CONFLICT: ") and "picked" in update.detail
        assert_no_buyer_data(update.detail)
        shipped = emulator.ship_now("R1")
        assert shipped["shipped_to_fingerprint"] == fingerprint(OLD)
        assert [(u["applied"], u["code"]) for u in shipped["address_updates"]] == [(False, "CONFLICT")]


def test_shipbob_picks_on_its_own_clock_and_then_refuses(redis_client, prefix):
    with world("shipbob", redis_client, prefix) as (emulator, client):
        submit(client, "R1")
        emulator.configure_fulfilment(pick_after=600)
        emulator.clock.advance(599)
        assert client.update_address("R1", NEW).applied
        emulator.clock.advance(2)
        assert client.update_address("R1", OLD).state == "PICKED"  # refused: stays with NEW
        assert truth(emulator, "R1")["ship_to_fingerprint"] == fingerprint(NEW)


def test_shipbob_update_after_shipment_is_refused_as_shipped(redis_client, prefix):
    with world("shipbob", redis_client, prefix) as (emulator, client):
        submit(client, "R1")
        emulator.ship_now("R1")
        update = client.update_address("R1", NEW)
        assert (update.applied, update.state) == (False, "SHIPPED")
        assert "already shipped" in update.detail


def test_shipbob_unknown_reference_is_not_found_and_nothing_is_sent(redis_client, prefix):
    with world("shipbob", redis_client, prefix) as (emulator, client):
        update = client.update_address("NO-SUCH-REF", NEW)
        assert (update.applied, update.state) == (False, "NOT_FOUND")
        assert "updateShipmentAddress" not in calls(emulator) and emulator.count_by_reference() == {}


def test_shipbob_repeating_an_update_is_harmless_even_once_picked(redis_client, prefix):
    """A retried dispatch sends the same address again: applied again while open; once picked ShipBob
    refuses, and its own copy (read back) shows the parcel already goes there, so it is still applied."""
    with world("shipbob", redis_client, prefix) as (emulator, client):
        submit(client, "R1")
        assert client.update_address("R1", NEW).applied and client.update_address("R1", NEW).applied
        emulator.pick_now("R1")
        again = client.update_address("R1", NEW)
        assert (again.applied, again.state, again.detail) == (True, "PICKED", "ShipBob already ships to this address")
        row = emulator.ship_now("R1")
        assert row["shipped_to_fingerprint"] == fingerprint(NEW)
        assert [u["applied"] for u in row["address_updates"]] == [True, True, False]


def test_shipbob_lost_answer_is_retried_like_every_other_call(redis_client, prefix):
    with world("shipbob", redis_client, prefix) as (emulator, client):
        submit(client, "R1")
        emulator.configure_faults(drop_response_rate=0.5, seed=4, operations=["updateShipmentAddress"])
        assert client.update_address("R1", NEW).applied
        assert emulator.counters.snapshot()["updateShipmentAddress"]["injected"] == 1  # first answer dropped
        assert truth(emulator, "R1")["ship_to_fingerprint"] == fingerprint(NEW)


def test_shipbob_serves_the_update_only_under_the_versions_that_document_it(redis_client, prefix):
    with world("shipbob", redis_client, prefix, address_api_version="1.0") as (emulator, client):
        submit(client, "R1")
        headers = {"Authorization": f"Bearer {emulator.credentials.token}",
                   "shipbob_channel_id": emulator.credentials.channel_id}
        body = {"street_address1": "9 Elm Rd", "city": "Dallas"}
        assert requests.put(f"{emulator.url}/1.0/shipment/1000010:updateAddress", json=body, headers=headers,
                            timeout=5).status_code == 404
        update = client.update_address("R1", NEW)  # configured to a version without it: nothing is sent
        assert (update.applied, update.state) == (False, "OPEN") and "1.0" in update.detail
        assert "updateShipmentAddress" not in calls(emulator)
        assert truth(emulator, "R1")["ship_to_fingerprint"] == fingerprint(OLD)


# --- 4PX ------------------------------------------------------------------------------------------

def test_fourpx_has_no_update_so_nothing_is_sent_and_the_parcel_leaves_for_the_old_address(redis_client, prefix):
    with world("fourpx", redis_client, prefix) as (emulator, client):
        submit(client, "R1")
        update = client.update_address("R1", NEW)
        assert (update.applied, update.state) == (False, "OPEN")
        assert "4PX publishes no call" in update.detail and "cancel_type AP" in update.detail
        assert_no_buyer_data(update.detail)
        assert set(calls(emulator)) == {"fu.wms.outbound.create", "fu.wms.outbound.getlist"}
        shipped = emulator.ship_now("R1")
        assert shipped["shipped_to_fingerprint"] == fingerprint(OLD) != fingerprint(NEW)  # stale: hold it
        assert shipped["address_updates"] == []


def test_fourpx_after_pick_says_picked(redis_client, prefix):
    with world("fourpx", redis_client, prefix) as (emulator, client):
        submit(client, "R1")
        emulator.clock.advance(emulator.pick_after)  # S -> P on the sandbox clock
        assert client.update_address("R1", NEW).state == "PICKED"
        emulator.ship_now("R1")
        assert client.update_address("R1", NEW).state == "SHIPPED"


def test_fourpx_unknown_reference_is_not_found(redis_client, prefix):
    with world("fourpx", redis_client, prefix) as (emulator, client):
        update = client.update_address("NO-SUCH-REF", NEW)
        assert (update.applied, update.state) == (False, "NOT_FOUND")
        assert emulator.count_by_reference() == {}


def test_fourpx_repeat_gives_the_same_answer_and_its_own_address_counts_as_applied(redis_client, prefix):
    with world("fourpx", redis_client, prefix) as (emulator, client):
        submit(client, "R1")
        assert client.update_address("R1", NEW) == client.update_address("R1", NEW)
        same = client.update_address("R1", OLD)  # 4PX's copy (the list item's consignee) already is this one
        assert (same.applied, same.state) == (True, "OPEN")
        assert truth(emulator, "R1")["ship_to_fingerprint"] == fingerprint(OLD)


# --- the control API ------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["fourpx", "shipbob"])
def test_pick_ship_and_outbounds_over_the_control_api(kind, redis_client, prefix):
    with world(kind, redis_client, prefix) as (emulator, client):
        submit(client, "R1")
        control = f"{emulator.url}/_sandbox"
        picked = requests.post(f"{control}/pick", json={"reference": "R1"}, timeout=5).json()
        assert picked["picked"] and picked["shipped_to_fingerprint"] is None
        assert requests.post(f"{control}/pick", json={"reference": "NOPE"}, timeout=5).status_code == 404
        assert requests.post(f"{control}/ship", json={"reference": "R1"}, timeout=5).json()["shipped_at"]
        (row,) = requests.get(f"{control}/outbounds", timeout=5).json()
        assert row["reference"] == "R1" and row["shipped_to_fingerprint"] == fingerprint(OLD)
        assert requests.post(f"{control}/fulfilment", json={"pick_after": 60}, timeout=5).json()["pick_after"] == 60
        assert requests.post(f"{control}/fulfilment", json={"exception_rate": 1}, timeout=5).status_code == 400
