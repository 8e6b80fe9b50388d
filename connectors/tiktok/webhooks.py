"""TikTok Shop webhooks → what a verified push is about (pipeline.ports.WebhookReceiver).

A push only says that something changed; the order itself is always read back through the API, so
the receiver needs no more than the order id. Types that concern an order's content: 1 order status
change, 3 recipient address update (the buyer changed the ship-to after paying; order detail then
shows `has_updated_recipient_address`), 4 package update. Anything else, or a body that is not an
event object, names no order (docs/platforms/tiktok.md, Webhooks).

The signature covers the whole body, so everything read from it is signed: `timestamp` (seconds) is
the signed time, `shop_id` the platform shop the push is about, `tts_notification_id` (absent from the
published type 3 example) the push's identity, else the signature itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from connectors.tiktok.client import verify_webhook
from pipeline.ports import VerifiedPush
from pipeline.push_guard import signed_time

ORDER_STATUS_CHANGE = 1
RECIPIENT_ADDRESS_UPDATE = 3
PACKAGE_UPDATE = 4
ORDER_EVENTS = {ORDER_STATUS_CHANGE, RECIPIENT_ADDRESS_UPDATE, PACKAGE_UPDATE}


class TikTokWebhooks:
    ok_reply: dict[str, Any] = {"code": 0, "message": "success"}  # TikTok's own success envelope
    names_account = True  # the body's shop_id

    def verify(self, secrets: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> VerifiedPush | None:
        """What the push says; None when the `Authorization` signature does not verify."""
        signature = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if not verify_webhook(secrets["app_key"], secrets["app_secret"], body, signature):
            return None
        event = _event(body)
        notification = _text(event.get("tts_notification_id"))
        return VerifiedPush(order_ids=_order_ids(event), push_id=notification or str(signature).strip().lower(),
                            signed_at=signed_time(event.get("timestamp"), "s"), account=_text(event.get("shop_id")))


def _event(body: bytes) -> dict[str, Any]:
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    return event if isinstance(event, dict) else {}


def _text(value: object) -> str | None:
    """A string or integer id as text (TikTok sends strings; a number would still name the same thing)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and value else None


def _order_ids(event: dict[str, Any]) -> tuple[str, ...]:
    """The order of an order event; any other value it names is passed on for the guard to refuse."""
    kind, data = event.get("type"), event.get("data")
    if type(kind) is not int or kind not in ORDER_EVENTS or not isinstance(data, dict) or data.get("order_id") is None:
        return ()
    order_id = data["order_id"]
    return (_text(order_id) or order_id,)
