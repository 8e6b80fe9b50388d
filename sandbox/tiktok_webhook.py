"""Signed TikTok Shop webhooks, built and sent the way TikTok does (docs/platforms/tiktok.md).

``Authorization`` is hex(HMAC-SHA256(app_secret, app_key + raw body)). ``forge=True`` sends a
wrong signature so a receiver's rejection path can be tested with the same code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

ORDER_STATUS_CHANGE = 1  # webhook type ids (docs/platforms/tiktok.md): 1 order status, 3 address update, ...


def order_status_payload(shop_id: str, order_id: str, order_status: str, update_time: int,
                         timestamp: int) -> dict[str, Any]:
    return {"type": ORDER_STATUS_CHANGE, "shop_id": shop_id, "timestamp": timestamp,
            "data": {"order_id": order_id, "order_status": order_status, "update_time": update_time}}


def webhook_signature(app_key: str, app_secret: str, body: bytes) -> str:
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


def build_webhook(app_key: str, app_secret: str, payload: dict[str, Any], *,
                  forge: bool = False) -> tuple[bytes, dict[str, str]]:
    """The raw body and headers of one webhook delivery."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    secret = app_secret + "-forged" if forge else app_secret
    return body, {"Content-Type": "application/json", "Authorization": webhook_signature(app_key, secret, body)}
