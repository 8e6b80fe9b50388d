"""TikTok emulator webhooks: the address update (type 3) pushed once per buyer address change, shaped like
TikTok's published example, and the order status change (type 1) with the published envelope."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from sandbox.core.demo_accounts import TIKTOK_DEMO_SHOPS
from sandbox.core.generator import EventKind
from sandbox.tiktok.shapes import unix
from tests.sandbox.conftest import TikTokClient
from tests.webhook_sink import webhook_sink

SHOPS = {shop.shop_id: shop for shop in TIKTOK_DEMO_SHOPS}


def _next_address_change(tiktok):
    """The US order whose buyer changes the ship-to soonest after now, and that change."""
    now = tiktok.clock.now()
    changes = []
    for oid, order in tiktok.orders.items():
        for event in order.events:
            if event.kind is EventKind.ADDRESS_CHANGED and event.visible_at > now \
                    and order.account == TIKTOK_DEMO_SHOPS[0].shop_id \
                    and order.state(event.visible_at).address == event.address:
                changes.append((event.visible_at, oid, event))
    _, oid, event = min(changes)
    return oid, event


def _signed_by_its_shop(delivery, account: str) -> bool:
    shop = SHOPS[account]
    expected = hmac.new(shop.app_secret.encode(), shop.app_key.encode() + delivery.body, hashlib.sha256).hexdigest()
    return delivery.headers["authorization"] == expected


def test_address_change_is_pushed_once_as_type_3_when_the_clock_passes_it(tiktok):
    """TikTok "(3) Recipient address update" (https://partner.tiktokshop.com/docv2/page/650301af5a12ff0294ea3bf9):
    {type: 3, shop_id, timestamp, data{order_id, update_time}} when the recipient's address is updated."""
    oid, change = _next_address_change(tiktok)
    with webhook_sink() as (base, deliveries):
        before = tiktok.deliver_address_updates(f"{base}/hook")
        assert oid not in before and all(status == 200 for status in before.values())
        tiktok.clock.advance((change.visible_at - tiktok.clock.now()).total_seconds() + 1)
        passed = tiktok.deliver_address_updates(f"{base}/hook")
        again = tiktok.deliver_address_updates(f"{base}/hook")
    assert passed[oid] == 200 and again == {}
    mine = [d for d in deliveries if json.loads(d.body)["data"]["order_id"] == oid]
    assert len(mine) == 1 and len(deliveries) == len(before) + len(passed)
    payload = json.loads(mine[0].body)
    assert payload == {"type": 3, "shop_id": tiktok.orders[oid].account, "timestamp": tiktok.clock.timestamp(),
                       "data": {"order_id": oid, "update_time": unix(change.at)}}
    assert _signed_by_its_shop(mine[0], tiktok.orders[oid].account)
    doc = TikTokClient(tiktok).call("GET", "/order/202507/orders", {"ids": oid}).json()["data"]["orders"][0]
    assert doc["has_updated_recipient_address"] is True
    assert doc["recipient_address"]["address_line1"] == change.address.line1


def test_a_delivery_the_receiver_refused_is_sent_again(tiktok):
    oid, change = _next_address_change(tiktok)
    tiktok.clock.advance((change.visible_at - tiktok.clock.now()).total_seconds() + 1)
    refused = tiktok.deliver_address_updates("http://127.0.0.1:9/closed")  # nothing listens on port 9
    assert refused[oid] == 0
    with webhook_sink() as (base, deliveries):
        retried = tiktok.deliver_address_updates(f"{base}/hook")
    assert retried[oid] == 200 and set(retried) == set(refused) and len(deliveries) == len(refused)


def test_one_address_webhook_on_demand_and_forged(tiktok):
    oid, change = _next_address_change(tiktok)
    with pytest.raises(ValueError):
        tiktok.send_address_webhook("http://127.0.0.1:9/unused", oid)  # not changed yet at this instant
    tiktok.clock.advance((change.visible_at - tiktok.clock.now()).total_seconds() + 3600)
    with webhook_sink() as (base, deliveries):
        assert tiktok.send_address_webhook(f"{base}/hook", oid) == 200
        assert tiktok.send_address_webhook(f"{base}/hook", oid, forge=True) == 200
    genuine, forged = deliveries
    account = tiktok.orders[oid].account
    assert _signed_by_its_shop(genuine, account) and not _signed_by_its_shop(forged, account)
    assert json.loads(genuine.body)["data"]["update_time"] == unix(change.at)


def test_order_status_webhook_has_the_published_envelope(tiktok):
    """TikTok "(1) Order status change" (https://partner.tiktokshop.com/docv2/page/650300b8a57708028b430b4a):
    {type: 1, tts_notification_id, shop_id, timestamp, data{order_id, order_status, is_on_hold_order,
    update_time}}, where a cancelled order's status reads CANCEL."""
    cancelled = next(r["id"] for r in tiktok.ground_truth() if r["status"] == "CANCELLED")
    with webhook_sink() as (base, deliveries):
        assert tiktok.send_order_webhook(f"{base}/hook", cancelled) == 200
    payload = json.loads(deliveries[0].body)
    assert set(payload) == {"type", "tts_notification_id", "shop_id", "timestamp", "data"}
    assert payload["type"] == 1 and payload["tts_notification_id"].isdigit()
    assert payload["data"]["order_status"] == "CANCEL" and payload["data"]["is_on_hold_order"] is False
    assert payload["data"]["update_time"] == unix(tiktok.orders[cancelled].state(tiktok.clock.now()).updated_at)
