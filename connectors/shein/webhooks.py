"""SHEIN webhooks → the orders to re-fetch (pipeline.ports.WebhookReceiver)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

import orjson

from connectors.shein.client import aes_decrypt, verify_webhook

ORDER_EVENTS = {"order_push_notice"}


class SheinWebhooks:
    """SHEIN pushes: signed with the app id and app secret over the callback path, `eventData` AES-encrypted.

    The signature covers the path SHEIN posted to, which the body and headers do not carry: it is
    the shop's `webhook_path` secret (the callback URL path registered with SHEIN), else a `:path`
    header the receiving server adds.
    """

    ok_reply: Any = True  # SHEIN's reference receiver answers 2xx with `true`

    def order_ids(self, secrets: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> list[str] | None:
        lowered = {k.lower(): v for k, v in headers.items()}
        path = secrets.get("webhook_path") or lowered.get(":path") or ""
        app_id = lowered.get("x-lt-appid") or ""
        if not path or app_id != secrets.get("app_id") or not verify_webhook(
                app_id, secrets["app_secret"], path, lowered.get("x-lt-timestamp") or "",
                lowered.get("x-lt-signature") or ""):
            return None
        if lowered.get("x-lt-eventcode") not in ORDER_EVENTS:
            return []
        try:
            event = orjson.loads(aes_decrypt(_event_data(body), secrets["app_secret"]))
        except (ValueError, orjson.JSONDecodeError):
            return []
        if not isinstance(event, dict):
            return []
        numbers = event.get("orderNoList") or [event.get("orderNo")]
        return [str(n) for n in numbers if isinstance(n, str | int) and str(n)]


def _event_data(body: bytes) -> str:
    """`eventData` from a form-encoded body (what the sandbox sends) or a JSON one."""
    text = body.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):
        value = orjson.loads(text).get("eventData")
        return value if isinstance(value, str) else ""
    return (parse_qs(text).get("eventData") or [""])[0]
