"""TEMU webhooks, built and sent the way docs/platforms/temu.md describes (emulating TEMU's Java sample).

The event JSON is encrypted AES/CBC/PKCS5 with key = IV = the first 16 bytes of the app secret and
sent as ``{"eventData": base64}``. ``x-tm-signature`` is uppercase hex HMAC-SHA256 (app secret)
over ``key=value`` pairs joined by ``&`` in key order: the decrypted eventData and the four other
x-tm headers. ``forge=True`` signs with a wrong secret so a receiver's rejection can be tested.

Events (TEMU's "The event of webhook" page, docs/platforms/temu.md): ``bg_order_status_change_event``
carries mallId, parentOrderSn, orderSn, orderStatus and updateTime; ``bg_trade_logistics_address_changed``
only mallId and parentOrderSn, so a receiver has to re-read the order for the new address. The ``send_*``
functions build one for an emulator's order as TEMU shows it now and post it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from sandbox.core.demo_accounts import TemuCredentials
from sandbox.core.orders import GeneratedOrder
from sandbox.core.server import EmulatorState
from sandbox.core.webhooks import post_webhook
from sandbox.temu.shapes import TemuView, unix

ORDER_STATUS_CHANGE = "bg_order_status_change_event"
ADDRESS_CHANGED = "bg_trade_logistics_address_changed"


class TemuWebhookSource(EmulatorState, Protocol):
    """What the senders use of ``TemuEmulator`` (it satisfies this; importing it here would be a cycle)."""

    malls: dict[str, TemuCredentials]

    def view(self, order: GeneratedOrder, now: datetime) -> TemuView: ...


def order_status_event(mall_id: str, parent_order_sn: str, status: int, update_time: int) -> dict[str, Any]:
    """orderSn is left empty: the emulator reports the parent's status, not one child's."""
    return {"mallId": int(mall_id), "parentOrderSn": parent_order_sn, "orderSn": "", "orderStatus": status,
            "updateTime": update_time}


def address_changed_event(mall_id: str, parent_order_sn: str) -> dict[str, Any]:
    return {"mallId": int(mall_id), "parentOrderSn": parent_order_sn}


def encrypt_event(app_secret: str, plain: str) -> str:
    key = app_secret.encode("utf-8")[:16]
    padder = padding.PKCS7(128).padder()  # PKCS5 is PKCS7 on 8-byte-aligned 16-byte blocks
    data = padder.update(plain.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key)).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode("ascii")


def webhook_signature(app_secret: str, params: dict[str, str]) -> str:
    joined = "&".join(f"{k}={params[k]}" for k in sorted(params))
    return hmac.new(app_secret.encode(), joined.encode("utf-8"), hashlib.sha256).hexdigest().upper()


def build_webhook(app_key: str, app_secret: str, event: dict[str, Any], *, timestamp_ms: int,
                  event_code: str = ORDER_STATUS_CHANGE, forge: bool = False) -> tuple[bytes, dict[str, str]]:
    """The raw body and headers of one delivery."""
    plain = json.dumps(event, separators=(",", ":"))
    headers = {"x-tm-app-key": app_key, "x-tm-event-code": event_code, "x-tm-timestamp": str(timestamp_ms),
               "x-tm-ext-param": json.dumps({"mallId": event.get("mallId")}, separators=(",", ":"))}
    secret = app_secret + "-forged" if forge else app_secret
    headers["x-tm-signature"] = webhook_signature(secret, {"eventData": plain, **headers})
    body = json.dumps({"eventData": encrypt_event(app_secret, plain)}).encode()
    return body, {"Content-Type": "application/json", **headers}


def deliver(url: str, app_key: str, app_secret: str, event: dict[str, Any], *, event_code: str,
            forge: bool = False, timeout: float = 5.0) -> int:
    """Build one delivery and POST it; returns the receiver's HTTP status."""
    body, headers = build_webhook(app_key, app_secret, event, timestamp_ms=int(time.time() * 1000),
                                  event_code=event_code, forge=forge)
    return post_webhook(url, body, headers, timeout)


def send_order_status(emu: TemuWebhookSource, url: str, oid: str, *, forge: bool, timeout: float) -> int:
    """An order status change for ``oid`` as TEMU shows it now; returns the receiver's HTTP status."""
    order = emu.orders[oid]
    seen = emu.view(order, emu.clock.now())
    event = order_status_event(order.account, oid, seen.status, unix(seen.updated_at))
    return _send(emu, url, order, event, ORDER_STATUS_CHANGE, forge, timeout)


def send_address_changed(emu: TemuWebhookSource, url: str, oid: str, *, forge: bool, timeout: float) -> int:
    """An address change for ``oid``; ValueError unless its changed address is visible now."""
    order = emu.orders[oid]
    if not emu.view(order, emu.clock.now()).state.address_changed:
        raise ValueError(f"order {oid}: no address change is visible yet")
    event = address_changed_event(order.account, oid)
    return _send(emu, url, order, event, ADDRESS_CHANGED, forge, timeout)


def address_changes(emu: TemuWebhookSource) -> list[str]:
    """The visible orders whose buyer changed the address."""
    now = emu.clock.now()
    with emu.lock:
        return [sn for sn, order in emu.orders.items()
                if order.visible(now) and emu.view(order, now).state.address_changed]


def _send(emu: TemuWebhookSource, url: str, order: GeneratedOrder, event: dict[str, Any], code: str,
          forge: bool, timeout: float) -> int:
    shop = emu.malls[order.account]
    return deliver(url, shop.app_key, shop.app_secret, event, event_code=code, forge=forge, timeout=timeout)
