"""TEMU webhooks, built and sent the way docs/platforms/temu.md describes (emulating TEMU's Java sample).

The event JSON is encrypted AES/CBC/PKCS5 with key = IV = the first 16 bytes of the app secret and
sent as ``{"eventData": base64}``. ``x-tm-signature`` is uppercase hex HMAC-SHA256 (app secret)
over ``key=value`` pairs joined by ``&`` in key order: the decrypted eventData and the four other
x-tm headers. ``forge=True`` signs with a wrong secret so a receiver's rejection can be tested.

Events (TEMU's "The event of webhook" page, docs/platforms/temu.md): ``bg_order_status_change_event``
carries mallId, parentOrderSn, orderSn, orderStatus and updateTime; ``bg_trade_logistics_address_changed``
only mallId and parentOrderSn, so a receiver has to re-read the order for the new address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from sandbox.core.webhooks import post_webhook

ORDER_STATUS_CHANGE = "bg_order_status_change_event"
ADDRESS_CHANGED = "bg_trade_logistics_address_changed"


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
