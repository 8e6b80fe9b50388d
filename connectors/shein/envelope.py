"""What a SHEIN answer says: its body decoded exactly, its `{code, msg, info}` envelope, its codes.

SHEIN answers errors in HTTP 200 with a string `code` other than "0", so the verdict is read from the
body first. These are SHEIN's own rows on top of the default table (connectors/responses.py), kept
apart from the calls so the codes sit in one table. SHEIN sends money as JSON floats: every body is
decoded with each float kept as its exact decimal text, so no amount ever passes through a double.
"""

from __future__ import annotations

import json
from typing import Any

from connectors.responses import Action, Reading, Responses, Row, by_code, retry_after_seconds

# Error codes are not documented; these are what the sandbox answers [INFERRED], kept in one table.
AUTH_CODES = {"40001", "40002", "40003", "40004"}
THROTTLED_CODES = {"42900"}
RETRYABLE_CODES = {"50000"}


def decode_exact(content: bytes) -> Any:
    """JSON with every float kept as its decimal text ("12.98"), so no amount ever passes through a double."""
    return json.loads(content, parse_float=str) if content else None


def read_envelope(body: Any) -> Reading:
    """`{code, msg, info}`: code "0" is success, any other code an error (HTTP 200 all the same)."""
    if not isinstance(body, dict):
        return Reading()
    code = str(body["code"]) if body.get("code") is not None else ""
    return Reading(Action.OK if code == "0" else Action.REJECTED, code or None, str(body.get("msg", "")))


classify = Responses(
    read=read_envelope,
    codes=by_code({Action.RATE_LIMITED: THROTTLED_CODES, Action.RETRYABLE: RETRYABLE_CODES, Action.AUTH: AUTH_CODES}),
    # Differs from the default table: SHEIN reports bad credentials as codes in its envelope (AUTH_CODES).
    # An answer without the envelope says nothing about the credentials: refused for review whatever
    # its status, an HTTP 401/403 included.
    silent=Row(Action.REJECTED),
    # A throttled call waits at least a second even when told 0 (SHEIN publishes no limits to pace by).
    hint=lambda headers: retry_after_seconds(headers) or 1.0,
)
