"""Signed TikTok Shop webhooks, built and sent the way TikTok does (docs/platforms/tiktok.md).

``Authorization`` is hex(HMAC-SHA256(app_secret, app_key + raw body)). ``forge=True`` sends a
wrong signature so a receiver's rejection path can be tested with the same code.

Two topics: (1) order status change, sent on demand for any order, and (3) recipient address update,
sent for every buyer address change the sandbox clock has passed since the last delivery, once each,
the way TikTok pushes one when the buyer edits the ship-to.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any, Protocol

from sandbox.core.demo_accounts import TikTokCredentials
from sandbox.core.generator import stable_digits
from sandbox.core.orders import EventKind, GeneratedOrder, OrderEvent
from sandbox.core.server import EmulatorState
from sandbox.core.webhooks import post_webhook
from sandbox.tiktok.shapes import ORDER_STATUS, unix

ORDER_STATUS_CHANGE = 1  # webhook type ids (docs/platforms/tiktok.md): 1 order status, 3 address update, ...
RECIPIENT_ADDRESS_UPDATE = 3
WEBHOOK_STATUS = {"CANCELLED": "CANCEL"}  # the webhook's own spelling of an API status (L: "CANCEL")


class TikTokWebhookSource(EmulatorState, Protocol):
    """What the senders use of ``TikTokEmulator`` (it satisfies this; importing it here would be a cycle)."""

    shops: dict[str, TikTokCredentials]


def order_status_payload(shop_id: str, order_id: str, order_status: str, update_time: int,
                         timestamp: int) -> dict[str, Any]:
    """Type 1, shaped like TikTok's published example (L): envelope with ``tts_notification_id``."""
    return {"type": ORDER_STATUS_CHANGE, "tts_notification_id": notification_id(order_id, ORDER_STATUS_CHANGE,
                                                                                update_time),
            "shop_id": shop_id, "timestamp": timestamp,
            "data": {"order_id": order_id, "order_status": WEBHOOK_STATUS.get(order_status, order_status),
                     "is_on_hold_order": False, "update_time": update_time}}


def address_update_payload(shop_id: str, order_id: str, update_time: int, timestamp: int) -> dict[str, Any]:
    """Type 3, exactly the keys of TikTok's published example (L): no status, only when it changed."""
    return {"type": RECIPIENT_ADDRESS_UPDATE, "shop_id": shop_id, "timestamp": timestamp,
            "data": {"order_id": order_id, "update_time": update_time}}


def notification_id(order_id: str, kind: int, update_time: int) -> str:
    return "73271" + stable_digits("tt-notification", order_id, kind, update_time, length=14)


def webhook_signature(app_key: str, app_secret: str, body: bytes) -> str:
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


def build_webhook(app_key: str, app_secret: str, payload: dict[str, Any], *,
                  forge: bool = False) -> tuple[bytes, dict[str, str]]:
    """The raw body and headers of one webhook delivery."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    secret = app_secret + "-forged" if forge else app_secret
    return body, {"Content-Type": "application/json", "Authorization": webhook_signature(app_key, secret, body)}


def address_change(order: GeneratedOrder, now: datetime) -> OrderEvent | None:
    """The buyer's address change the API shows at ``now``, if any. The generator scripts at most one per
    order, and the order only takes it while it awaits shipment (the fold skips it otherwise)."""
    state = order.state(now)
    if not state.address_changed:
        return None
    return next((e for e in order.events if e.kind is EventKind.ADDRESS_CHANGED and e.visible_at <= now
                 and e.address == state.address), None)


def send_order_status(emu: TikTokWebhookSource, url: str, oid: str, *, forge: bool, timeout: float) -> int:
    order = emu.orders[oid]
    shop = emu.shops[order.account]
    state = order.state(emu.clock.now())
    payload = order_status_payload(shop.shop_id, oid, ORDER_STATUS[state.status], unix(state.updated_at),
                                   emu.clock.timestamp())
    body, headers = build_webhook(shop.app_key, shop.app_secret, payload, forge=forge)
    return post_webhook(url, body, headers, timeout)


def send_address_update(emu: TikTokWebhookSource, url: str, oid: str, *, forge: bool, timeout: float) -> int:
    """Type 3 for ``oid``, stamped with its address change's time; ValueError if its address never changed."""
    order = emu.orders[oid]
    change = address_change(order, emu.clock.now())
    if change is None:
        raise ValueError(f"the buyer of {oid} has not changed the address (yet)")
    shop = emu.shops[order.account]
    payload = address_update_payload(shop.shop_id, oid, unix(change.at), emu.clock.timestamp())
    body, headers = build_webhook(shop.app_key, shop.app_secret, payload, forge=forge)
    return post_webhook(url, body, headers, timeout)


def deliver_address_updates(emu: TikTokWebhookSource, url: str, sent: set[tuple[str, datetime]], *,
                            timeout: float) -> dict[str, int]:
    """Type 3 for every address change visible now and not in ``sent`` ((order id, change time), updated in
    place): order id -> the receiver's HTTP status, 0 when it could not be reached. A change whose delivery
    failed is sent again next time, as TikTok retries an unacknowledged push."""
    now = emu.clock.now()
    with emu.lock:
        changes = {oid: change for oid, order in emu.orders.items() if order.visible(now)
                   and (change := address_change(order, now)) is not None and (oid, change.at) not in sent}
    statuses = {}
    for oid in sorted(changes):
        try:
            statuses[oid] = send_address_update(emu, url, oid, forge=False, timeout=timeout)
        except OSError:  # refused, unreachable, timed out
            statuses[oid] = 0
        if 200 <= statuses[oid] < 300:
            sent.add((oid, changes[oid].at))
    return statuses
