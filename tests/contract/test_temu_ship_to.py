"""TEMU ship-to end to end: the decrypt API where the shop declares it, the masked fallback, and a buyer's
address change told by webhook and re-read.

Sources (docs/platforms/temu.md): bg.order.decryptshippinginfo.get and bg.order.shippinginfo.v2.get, TEMU Partner
docs as copied in https://github.com/linkfox-ai/linkfox-skills/tree/main/skills/linkfox-temu-order-us/references/
apis; error 3000032 (the token lacks the API) in TEMU's general error codes, https://partner-us.temu.com/
documentation?menu_code=38e79b35d2cb463d85619c1c786dd303&sub_menu_code=3420761d5dbd4d409f0e41b67634808a;
bg_trade_logistics_address_changed {mallId, parentOrderSn} on TEMU's "The event of webhook" page
(https://partner-us.temu.com/documentation?menu_code=fb16b05f7a904765aac4af3a24b87d4a, Webhook).
"""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest
from structlog.testing import capture_logs

from connectors.ratelimit import RateLimiter
from connectors.registry import PLATFORMS
from connectors.temu.client import DECRYPT, SHIPPING_INFO, TemuClient
from pipeline.errors import NeedsReview
from pipeline.model import HoldReason, OrderStatus
from pipeline.ports import ShopRef
from pipeline.routing import address_problem
from pipeline.sync import sync_orders
from sandbox.core.generator import EventKind, Status
from tests.contract.harness import HARNESSES
from tests.webhook_sink import webhook_sink

HARNESS = HARNESSES["temu"]


def _client(emulator, redis_client, prefix, **options: str) -> tuple[TemuClient, ShopRef]:
    shop, secrets = HARNESS.shop(emulator)
    shop = msgspec.structs.replace(shop, options=options)
    client = PLATFORMS["temu"].client(shop, secrets, RateLimiter(redis_client, prefix))
    return client, ShopRef("acme", "temu", shop.shop_id)


def _stored(store, ref, emulator):
    now = emulator.clock.now()
    for truth in emulator.ground_truth():
        stored = store.get("acme", f"temu:{ref.shop_id}:{truth['id']}")
        if stored and stored.order and stored.order.ship_to is not None:
            yield truth["id"], stored.order, emulator.orders[truth["id"]].state(now).address


def test_a_shop_granted_the_decrypt_api_stores_the_ship_to_in_the_clear(store, redis_client, prefix):
    """`options.decrypt_shipping = "true"`: every addressable order is read with bg.order.decryptshippinginfo.get,
    never with the masked shippinginfo, and its address (phone included) is complete."""
    with HARNESS.emulator(orders=80, seed=5) as emulator:
        client, ref = _client(emulator, redis_client, prefix, decrypt_shipping="true")
        sync_orders(store, PLATFORMS["temu"], client, ref, now=emulator.clock.now(), lookback=timedelta(days=3))
        rows = list(_stored(store, ref, emulator))
        assert rows and emulator.counters.get(DECRYPT) == len(rows)
        assert emulator.counters.get(SHIPPING_INFO) == 0
        assert all(order.ship_to.pii_complete and order.ship_to.phone == truth.phone and
                   order.ship_to.line1 == truth.line1 for _, order, truth in rows)


def test_a_refused_grant_is_noticed_once_and_the_masked_ship_to_read_instead(store, redis_client, prefix):
    """The shop declares the API, but the seller never authorised it (TEMU's gateway answers 3000032): one
    refused call, one log line, then the masked document for every order. A masked phone holds nothing:
    name and street are there, the address is only marked not pii_complete."""
    with HARNESS.emulator(orders=80, seed=5, decrypt_malls=()) as emulator:
        client, ref = _client(emulator, redis_client, prefix, decrypt_shipping="true")
        with capture_logs() as logs:
            sync_orders(store, PLATFORMS["temu"], client, ref, now=emulator.clock.now(), lookback=timedelta(days=3))
        assert [e["code"] for e in logs if e["event"] == "temu.decrypt_not_granted"] == ["3000032"]
        rows = list(_stored(store, ref, emulator))
        assert emulator.counters.get(DECRYPT) == emulator.counters.get(DECRYPT, "auth_failures") == 1
        assert emulator.counters.get(SHIPPING_INFO) == len(rows)
        masked = [order for _, order, _ in rows if not order.ship_to.pii_complete]
        assert masked and all(order.ship_to.phone is None and address_problem(order.ship_to) is None
                              for order in masked)
        assert not store.holds("acme", HoldReason.INVALID_PAYLOAD).get(HoldReason.INVALID_PAYLOAD)


def test_without_the_option_the_decrypt_api_is_never_called(store, redis_client, prefix):
    with HARNESS.emulator(orders=40, seed=5) as emulator:
        client, ref = _client(emulator, redis_client, prefix)
        sync_orders(store, PLATFORMS["temu"], client, ref, now=emulator.clock.now(), lookback=timedelta(days=3))
        assert emulator.counters.get(DECRYPT) == 0 and emulator.counters.get(SHIPPING_INFO) > 0
        with pytest.raises(ValueError, match="decrypt_shipping"):
            _client(emulator, redis_client, prefix, decrypt_shipping="yes please")


def test_refusals_other_than_a_missing_grant_are_not_taken_for_one(redis_client, prefix):
    """Only 3000027/3000032 turn the decrypt API off: an unknown order is still refused as such."""
    with HARNESS.emulator(orders=10, seed=5) as emulator:
        client, _ = _client(emulator, redis_client, prefix, decrypt_shipping="true")
        with pytest.raises(NeedsReview) as refused:
            client._shipping("PO-211-00000000000000000")
        assert refused.value.code == "2000000"
        sn = next(t["id"] for t in emulator.ground_truth() if t["status"] == 2)
        assert client.fetch_order(sn)["shipping"]["mobile"] == emulator.orders[sn].address.phone
        assert (emulator.counters.get(DECRYPT), emulator.counters.get(SHIPPING_INFO)) == (2, 0)


def _address_change(emulator):
    for sn, order in emulator.orders.items():
        event = next((e for e in order.events if e.kind is EventKind.ADDRESS_CHANGED), None)
        if event and order.state(event.at - timedelta(seconds=1)).status is Status.READY:
            return sn, event
    raise AssertionError("no address change scripted")


def test_an_address_change_webhook_names_the_order_and_its_re_read_has_the_new_address(store, redis_client, prefix):
    """TEMU's address-change event carries only mallId and parentOrderSn: the receiver returns that order's id
    (so it is fetched again), and the fetch maps to the new ship-to."""
    with HARNESS.emulator(orders=300, seed=5) as emulator:
        sn, event = _address_change(emulator)
        emulator.clock.advance((event.at - emulator.clock.now()).total_seconds() - 1)
        client, ref = _client(emulator, redis_client, prefix)
        before = PLATFORMS["temu"].map_order(client.fetch_order(sn), ref)
        assert before.status is OrderStatus.READY and before.ship_to.line1 != event.address.line1

        emulator.clock.advance(2)
        receiver = PLATFORMS["temu"].capabilities.webhooks
        with webhook_sink() as (base, received):
            emulator.send_address_webhook(f"{base}/hook", sn)
            emulator.send_address_webhook(f"{base}/hook", sn, forge=True)
        genuine, forged = received
        assert genuine.headers["x-tm-event-code"] == "bg_trade_logistics_address_changed"
        assert receiver.verify(HARNESS.secrets, genuine.headers, genuine.body).order_ids == (sn,)
        assert receiver.verify(HARNESS.secrets, forged.headers, forged.body) is None

        after = PLATFORMS["temu"].map_order(client.fetch_order(sn), ref)
        assert (after.ship_to.line1, after.ship_to.city) == (event.address.line1, event.address.city)
        assert after.updated_at > before.updated_at
