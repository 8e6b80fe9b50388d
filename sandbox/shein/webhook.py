"""Signed SHEIN webhooks, built and sent the way SHEIN does (docs/platforms/shein.md).

Headers x-lt-openKeyId, x-lt-eventCode, x-lt-appid, x-lt-timestamp and x-lt-signature, the
signature made like a request's but with the app id and app secret over the callback path. The
body is form-encoded ``eventData=<base64 AES-128-CBC ciphertext>`` (public reports say form or
multipart; form is the simpler of the two). ``forge=True`` signs with a wrong secret.
"""

from __future__ import annotations

import json
import secrets
import string
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from sandbox.core.demo_accounts import SheinCredentials
from sandbox.shein.shapes import aes_encrypt, sign

ORDER_PUSH_NOTICE = "order_push_notice"


def random_key() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(5))


def build_webhook(shop: SheinCredentials, url: str, event: dict[str, Any], *,
                  forge: bool = False) -> tuple[bytes, dict[str, str]]:
    """The raw body and headers of one ``order_push_notice`` delivery to ``url``."""
    stamp = str(int(time.time() * 1000))
    secret = shop.app_secret + "-forged" if forge else shop.app_secret
    cipher = aes_encrypt(json.dumps(event, separators=(",", ":")), shop.app_secret)
    body = urlencode({"eventData": cipher}).encode()
    return body, {"Content-Type": "application/x-www-form-urlencoded", "x-lt-openKeyId": shop.open_key_id,
                  "x-lt-eventCode": ORDER_PUSH_NOTICE, "x-lt-appid": shop.app_id, "x-lt-timestamp": stamp,
                  "x-lt-signature": sign(shop.app_id, secret, urlsplit(url).path, stamp, random_key())}
