"""TEMU's request signature: MD5(secret + sorted key+value + secret), uppercase hex.

Its own module because it is the part of a call that must match TEMU's docs to the byte (how a
value is rendered decides the digest), checked on its own against TEMU's published worked example
(tests/contract/test_temu_signing.py). Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def render_value(value: Any) -> str:
    """Compact JSON with the quotes of a plain string stripped (docs/platforms/temu.md)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text[1:-1] if isinstance(value, str) else text


def sign(params: Mapping[str, Any], app_secret: str) -> str:
    joined = "".join(key + render_value(params[key]) for key in sorted(params) if key != "sign")
    return hashlib.md5(f"{app_secret}{joined}{app_secret}".encode()).hexdigest().upper()
