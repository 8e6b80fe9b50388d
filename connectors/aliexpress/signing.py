"""AliExpress IOP's request signature: HMAC-SHA256 over the sorted key+value of every parameter.

Its own module, as on every platform: the one part of a call that must match the gateway's reading
to the byte, and a pure function of the parameters that can be read and checked without a client.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping


def sign(params: Mapping[str, str], app_secret: str) -> str:
    """uppercase hex HMAC-SHA256(app_secret, concat(key + value for sorted keys, `sign` left out))."""
    message = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")
    return hmac.new(app_secret.encode(), message.encode(), hashlib.sha256).hexdigest().upper()
