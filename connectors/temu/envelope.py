"""What a TEMU answer says: its `{success, errorCode, errorMsg, result}` envelope and the codes we act on.

TEMU answers errors as HTTP 200 with `success: false` and a numeric `errorCode`, so the verdict is
read from the body first. These are TEMU's own rows on top of the default table
(connectors/responses.py), kept apart from the calls so every TEMU code sits in one table.
"""

from __future__ import annotations

from typing import Any

from connectors.responses import Action, Reading, Responses, Row, by_code, fixed_wait

THROTTLED_CODE = 4000004
RETRYABLE_CODES = {4000000}
AUTH_CODES = {3000001, 5000000} | set(range(3000025, 3000035))
TRACKING_USED_CODE = 2000101  # [INFERRED]: "a tracking number can be used successfully only once"
STILL_PRICING_CODE = "140020008"  # bg.order.amount.query: "amount fields are still undergoing system calculation"
NO_API_ACCESS = {"3000027", "3000032"}  # gateway: the app / the seller's token lacks this API


def read_envelope(body: Any) -> Reading:
    """`{success, errorCode, errorMsg, result}`: `success: true`, else refused with its errorCode."""
    if not isinstance(body, dict):
        return Reading()
    code = body.get("errorCode")
    return Reading(Action.OK if body.get("success") is True else Action.REJECTED,
                   None if code is None else str(code), str(body.get("errorMsg") or ""))


classify = Responses(
    read=read_envelope,
    codes=by_code({Action.RATE_LIMITED: {THROTTLED_CODE}, Action.RETRYABLE: RETRYABLE_CODES, Action.AUTH: AUTH_CODES}),
    # Differs from the default table: TEMU reports bad credentials as codes in its envelope (AUTH_CODES).
    # An answer without the envelope says nothing about the credentials: refused for review whatever
    # its status, an HTTP 401/403 included.
    silent=Row(Action.REJECTED),
    # TEMU documents no wait for a throttled call (docs/platforms/temu.md): one second refills the app's bucket.
    hint=fixed_wait(1.0),
)
# For an API the shop may not have been granted: "no permission for this API" (NO_API_ACCESS, within
# AUTH_CODES) refuses this call only, the credentials are fine, so the caller can fall back.
classify_optional = classify.with_codes(by_code({Action.REJECTED: NO_API_ACCESS}))
