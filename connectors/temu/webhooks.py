"""TEMU webhooks → what a verified push is about (pipeline.ports.WebhookReceiver): AES-encrypted, HMAC-signed.

The signature covers the decrypted event and the x-tm headers, so the event's `mallId` (the platform shop
the push is about) and `x-tm-timestamp` (milliseconds) are signed. TEMU sends no notification id: the
signature, which covers the timestamp, is the push's identity (docs/platforms/temu.md, Webhooks).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import orjson
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from pipeline.ports import VerifiedPush
from pipeline.push_guard import signed_time

# Both carry the order's parentOrderSn (TEMU's "The event of webhook"); the address change carries nothing else,
# so the order is fetched again for its new ship-to (docs/platforms/temu.md, Webhooks).
ORDER_EVENTS = {"bg_order_status_change_event", "bg_trade_logistics_address_changed"}
SIGNED_HEADERS = ("x-tm-app-key", "x-tm-event-code", "x-tm-timestamp", "x-tm-ext-param")


def decrypt_event(app_secret: str, event_data: str) -> str | None:
    """AES/CBC/PKCS5 with key = IV = the first 16 bytes of the app secret (docs/platforms/temu.md)."""
    key = app_secret.encode("utf-8")[:16]
    try:
        cipher = base64.b64decode(event_data, validate=True)
        decryptor = Cipher(algorithms.AES(key), modes.CBC(key)).decryptor()
        padded = decryptor.update(cipher) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def verify_webhook(app_secret: str, headers: Mapping[str, str], plain_event: str) -> bool:
    """Uppercase hex HMAC-SHA256 over sorted `key=value&...` of eventData and four x-tm headers (TEMU's Java)."""
    signature = headers.get("x-tm-signature")
    if not signature:
        return False
    params = {"eventData": plain_event, **{name: headers.get(name, "") for name in SIGNED_HEADERS}}
    # TEMU's Java sample (buildSignSource) leaves out blank values, e.g. an absent x-tm-ext-param.
    joined = "&".join(f"{k}={params[k]}" for k in sorted(params) if params[k].strip())
    expected = hmac.new(app_secret.encode(), joined.encode("utf-8"), hashlib.sha256).hexdigest().upper()
    return hmac.compare_digest(expected, signature.strip().upper())


class TemuWebhooks:
    ok_reply: dict[str, Any] = {"result": {}}  # what TEMU expects back, or it retries (8 times)
    names_account = True  # the event's mallId

    def verify(self, secrets: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> VerifiedPush | None:
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            envelope = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        event_data = envelope.get("eventData") if isinstance(envelope, dict) else None
        plain = decrypt_event(secrets["app_secret"], event_data) if isinstance(event_data, str) else None
        if plain is None or not verify_webhook(secrets["app_secret"], lowered, plain):
            return None
        try:
            event = orjson.loads(plain)
        except orjson.JSONDecodeError:
            event = None
        event = event if isinstance(event, dict) else {}
        sn = event.get("parentOrderSn") if lowered.get("x-tm-event-code") in ORDER_EVENTS else None
        return VerifiedPush(order_ids=() if sn is None else (_text(sn) or sn,),
                            push_id=lowered["x-tm-signature"].strip().upper(),
                            signed_at=signed_time(lowered.get("x-tm-timestamp"), "ms"),
                            account=_text(event.get("mallId")))


def _text(value: object) -> str | None:
    """A string or integer id as text (mallId is a JSON number; parentOrderSn a string)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and value else None
