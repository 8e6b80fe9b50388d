"""TEMU ship-to over real HTTP: masking, the decrypt API and its refusal, a buyer's address change and its webhook.

The client is the independent one of tests/sandbox/test_temu.py. Sources (docs/platforms/temu.md):
- bg.order.decryptshippinginfo.get and bg.order.shippinginfo.v2.get fields: TEMU Partner docs, copied in
  https://github.com/linkfox-ai/linkfox-skills/tree/main/skills/linkfox-temu-order-us/references/apis
  (bg-order-decryptshippinginfo-get.md, bg-order-shippinginfo-v2-get.md).
- 3000032 "access_token don't have this api access, please ask for seller to authorize this api in seller center
  first...": TEMU's general error codes, https://partner-us.temu.com/documentation?menu_code=
  38e79b35d2cb463d85619c1c786dd303&sub_menu_code=3420761d5dbd4d409f0e41b67634808a (extract in
  https://github.com/vanky2viva/temu-omni, temu-partner-documentation.md).
- SEMI masking: "since 2025-03-17 TEMU encrypts semi-managed orders' addresses; country, city, state and postcode
  show, the rest shows ***", https://help.dianxiaomi.com/help_center/article/orderManagement/2995.
- bg_trade_logistics_address_changed carries mallId and parentOrderSn; CONFIRMED_CHANGED_ADDRESS is a published
  fulfillmentWarning value ("address changed and confirmed, re-read the order"): TEMU's "The event of webhook"
  page and bg.order.list.v2.get response fields (linkfox copy, bg-order-list-v2-get.md).
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from sandbox.core.demo_accounts import TEMU_DEMO_SHOPS
from sandbox.core.generator import EventKind, Status
from sandbox.temu.emulator import TemuEmulator
from tests.sandbox.test_temu import Client
from tests.webhook_sink import webhook_sink

US, EU, _ = TEMU_DEMO_SHOPS
DECRYPT, SHIPPING = "bg.order.decryptshippinginfo.get", "bg.order.shippinginfo.v2.get"
PUBLISHED_DECRYPT_FIELDS = {"receiptName", "receiptAdditionalName", "mobile", "backupMobile", "mail", "regionName1",
                            "regionName2", "regionName3", "regionName4", "addressLine1", "addressLine2",
                            "addressLine3", "postCode", "addressLineAll", "addressExtra"}


@pytest.fixture
def temu(clock):
    with TemuEmulator(clock=clock, orders=300, seed=7) as emulator:
        yield emulator


def _ready(temu: TemuEmulator, shop) -> str:
    now = temu.clock.now()
    return next(sn for sn, o in temu.orders.items() if o.account == shop.mall_id and o.visible(now)
                and temu.view(o, now).status == 2)


def test_semi_ship_to_is_masked_and_the_decrypt_api_needs_the_sellers_grant(temu):
    client = Client(temu, EU)
    sn = _ready(temu, EU)
    truth = temu.orders[sn].state(temu.clock.now()).address
    masked = client.call(SHIPPING, parentOrderSn=sn)["result"]
    assert (masked["receiptName"], masked["mobile"], masked["addressLine1"]) == ("***", "***", "***")
    assert (masked["regionName3"], masked["postCode"]) == (truth.city, truth.postal_code)

    refused = client.call(DECRYPT, parentOrderSn=sn)
    assert (refused["success"], refused["errorCode"], refused["result"]) == (False, 3000032, None)
    assert "authorize this api" in refused["errorMsg"]
    assert temu.counters.get(DECRYPT, "auth_failures") == 1

    temu.decrypt_malls.add(EU.mall_id)  # the seller authorises the API for the token
    clear = client.call(DECRYPT, parentOrderSn=sn)["result"]
    assert set(clear) == PUBLISHED_DECRYPT_FIELDS
    assert (clear["receiptName"], clear["mobile"], clear["addressLine1"]) == (truth.name, truth.phone, truth.line1)


def test_the_decrypt_api_shows_the_phone_the_masked_document_hides(temu):
    client = Client(temu, US)
    now = temu.clock.now()
    sn = next(sn for sn, o in temu.orders.items() if o.account == US.mall_id and o.visible(now)
              and temu.view(o, now).status == 2 and int(o.serial[-1]) % 2 == 0)
    masked = client.call(SHIPPING, parentOrderSn=sn)["result"]
    clear = client.call(DECRYPT, parentOrderSn=sn)["result"]
    assert "*" in masked["mobile"] and "*" not in clear["mobile"]
    assert clear["mobile"] == temu.orders[sn].state(now).address.phone
    assert {k: v for k, v in masked.items() if k not in ("mobile", "warning")} == {
        k: v for k, v in clear.items() if k != "mobile"}


def _address_change(temu: TemuEmulator):
    """An order of the US mall whose buyer changes the address while it is READY, and that event."""
    for sn, order in temu.orders.items():
        event = next((e for e in order.events if e.kind is EventKind.ADDRESS_CHANGED), None)
        if order.account == US.mall_id and event and order.state(event.at - timedelta(seconds=1)).status is Status.READY:
            return sn, order, event
    raise AssertionError("no address change scripted for the US mall")


def test_a_changed_address_shows_on_re_read_and_is_announced_by_its_webhook(temu):
    client = Client(temu, US)
    sn, order, event = _address_change(temu)
    temu.clock.advance((event.at - temu.clock.now()).total_seconds() - 1)
    before = client.call(SHIPPING, parentOrderSn=sn)["result"]
    assert before["addressLine1"] == order.address.line1
    assert client.call("bg.order.detail.v2.get", parentOrderSn=sn)["result"]["parentOrderMap"][
        "fulfillmentWarning"] == []
    with pytest.raises(ValueError, match="no address change"):
        temu.send_address_webhook("http://127.0.0.1:9/never", sn)

    temu.clock.advance(2)
    after = client.call(SHIPPING, parentOrderSn=sn)["result"]
    assert after["addressLine1"] == event.address.line1 != before["addressLine1"]
    parent = client.call("bg.order.detail.v2.get", parentOrderSn=sn)["result"]["parentOrderMap"]
    assert parent["fulfillmentWarning"] == ["CONFIRMED_CHANGED_ADDRESS"]
    assert parent["updateTime"] == int(event.at.timestamp())
    assert sn in temu.address_changes()

    with webhook_sink() as (base, received):
        assert temu.send_address_webhook(f"{base}/hook", sn) == 200
    (delivery,) = received
    assert delivery.headers["x-tm-event-code"] == "bg_trade_logistics_address_changed"
    key = US.app_secret.encode()[:16]
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key)).decryptor()
    padded = decryptor.update(base64.b64decode(json.loads(delivery.body)["eventData"])) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    assert json.loads(unpadder.update(padded) + unpadder.finalize()) == {"mallId": int(US.mall_id),
                                                                        "parentOrderSn": sn}
