"""TikTok Shop webhooks → the orders to re-fetch (pipeline.ports.WebhookReceiver).

A push only says that something changed; the order itself is always read back through the API, so
the receiver needs no more than the order id. Types that concern an order's content: 1 order status
change, 3 recipient address update (the buyer changed the ship-to after paying; order detail then
shows `has_updated_recipient_address`), 4 package update. Anything else, or a body that is not an
event object, is acknowledged with nothing to fetch (docs/platforms/tiktok.md, Webhooks).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from connectors.tiktok.client import verify_webhook

ORDER_STATUS_CHANGE = 1
RECIPIENT_ADDRESS_UPDATE = 3
PACKAGE_UPDATE = 4
ORDER_EVENTS = {ORDER_STATUS_CHANGE, RECIPIENT_ADDRESS_UPDATE, PACKAGE_UPDATE}


class TikTokWebhooks:
    ok_reply: dict[str, Any] = {"code": 0, "message": "success"}  # TikTok's own success envelope

    def order_ids(self, secrets: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> list[str] | None:
        """The pushed order's id; None when the `Authorization` signature does not verify."""
        if not verify_webhook(secrets["app_key"], secrets["app_secret"], body, headers.get("authorization")):
            return None
        try:
            event = orjson.loads(body)
        except orjson.JSONDecodeError:
            return []
        if not isinstance(event, dict) or event.get("type") not in ORDER_EVENTS:
            return []
        data = event.get("data")
        order_id = data.get("order_id") if isinstance(data, dict) else None
        if isinstance(order_id, int) and not isinstance(order_id, bool):
            order_id = str(order_id)  # TikTok sends a string; a number would still name the order
        return [order_id] if isinstance(order_id, str) and order_id else []
