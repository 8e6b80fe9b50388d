"""SHEIN webhooks → what a verified push is about (pipeline.ports.WebhookReceiver).

SHEIN's push signature covers the app id, `x-lt-timestamp` and the callback path, not the body nor the
`x-lt-openKeyId` header: so the signed time is checked, the signature is the push's identity (captured
headers replayed with another body are remembered as seen), and no account is read, since nothing signed
names the seller; the signed path (our URL names seller and shop) and the URL shop's own credentials for
the fetch bind the push instead (docs/platforms/shein.md, Webhooks; docs/security.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

import orjson

from connectors.shein.signing import aes_decrypt, verify_webhook
from pipeline.ports import VerifiedPush
from pipeline.push_guard import signed_time

ORDER_EVENTS = {"order_push_notice"}


class SheinWebhooks:
    """SHEIN pushes: signed with the app id and app secret over the callback path, `eventData` AES-encrypted.

    The signature covers the path SHEIN posted to, which the body and headers do not carry: it is
    the shop's `webhook_path` secret (the callback URL path registered with SHEIN), else a `:path`
    header the receiving server adds.
    """

    ok_reply: Any = True  # SHEIN's reference receiver answers 2xx with `true`
    names_account = False  # x-lt-openKeyId is not signed

    def verify(self, secrets: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> VerifiedPush | None:
        lowered = {k.lower(): v for k, v in headers.items()}
        path = secrets.get("webhook_path") or lowered.get(":path") or ""
        app_id, signature = lowered.get("x-lt-appid") or "", lowered.get("x-lt-signature") or ""
        if not path or app_id != secrets.get("app_id") or not verify_webhook(
                app_id, secrets["app_secret"], path, lowered.get("x-lt-timestamp") or "", signature):
            return None
        order_ids: tuple[str, ...] = ()
        if lowered.get("x-lt-eventcode") in ORDER_EVENTS:
            order_ids = _order_numbers(_event(body, secrets["app_secret"]))
        # Milliseconds like a request's (SHEIN's SDK); "auto" also reads seconds, refused all the same when stale.
        return VerifiedPush(order_ids=order_ids, push_id=signature,
                            signed_at=signed_time(lowered.get("x-lt-timestamp"), "auto"), account=None)


def _event(body: bytes, app_secret: str) -> dict[str, Any]:
    try:
        event = orjson.loads(aes_decrypt(_event_data(body), app_secret))
    except (ValueError, orjson.JSONDecodeError):
        return {}
    return event if isinstance(event, dict) else {}


def _order_numbers(event: dict[str, Any]) -> tuple[str, ...]:
    """orderNoList, else orderNo; an integer is read as its text, anything else passed on for the guard."""
    numbers = event.get("orderNoList") or [event.get("orderNo")]
    if not isinstance(numbers, list):
        numbers = [numbers]
    return tuple(str(n) if isinstance(n, int) and not isinstance(n, bool) else n for n in numbers if n is not None)


def _event_data(body: bytes) -> str:
    """`eventData` from a form-encoded body (what the sandbox sends) or a JSON one."""
    text = body.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):
        value = orjson.loads(text).get("eventData")
        return value if isinstance(value, str) else ""
    return (parse_qs(text).get("eventData") or [""])[0]
