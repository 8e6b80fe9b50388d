"""What an AliExpress answer says: the gateway's error, the API's own `result.success`, the codes.

Failures come back inside HTTP 200, either as the gateway's {type, code} or as the API's
`result.success: false`, so the verdict is read from the body first. These are AliExpress's own rows
on top of the default table (connectors/responses.py), kept apart from the calls so the codes sit in
one table.
"""

from __future__ import annotations

from typing import Any

from connectors.responses import Action, Reading, Responses, Row, by_code

THROTTLE_CODES = {"ApiCallLimit", "AppCallLimit"}
AUTH_CODES = {"IllegalAccessToken", "IncompleteSignature", "InvalidSignature", "InvalidAppKey", "MissingAppKey",
              "InvalidSignMethod", "AccessTokenExpired",
              "InvalidTimestamp"}  # a skewed host clock: retrying cannot fix it, a person must


def read_envelope(body: Any) -> Reading:
    """The gateway's error ({type, code, message}) first, then the API's own `result.success`.

    A gateway error of type ISP or SYSTEM is the platform's own fault (retried); any other is refused.
    A body with neither a gateway error nor a `<method>_response` wrapper says nothing (see `silent`)."""
    if not isinstance(body, dict):
        return Reading()
    message = str(body.get("message", ""))
    gateway = str(body.get("code", "")) if "type" in body else ""
    if gateway and body.get("type") in ("ISP", "SYSTEM"):
        return Reading(Action.RETRYABLE, gateway, message)
    if gateway and gateway != "0":
        return Reading(Action.REJECTED, gateway, message)
    result = api_result(body)
    if result is None:
        return Reading(None, gateway or None, message)
    if isinstance(result, dict) and result.get("success") is False:
        return Reading(Action.REJECTED, str(result.get("error_code")), str(result.get("error_message") or ""))
    return Reading(Action.OK, gateway or None, message)


classify = Responses(
    read=read_envelope,
    codes=by_code({Action.RATE_LIMITED: THROTTLE_CODES, Action.AUTH: AUTH_CODES}),
    # Differs from the default table, for answers without the gateway's envelope or an API result:
    # a 200 is a proxy page or a truncated body, tried again; any other (an HTTP 401/403 included:
    # AliExpress reports bad credentials as gateway codes, AUTH_CODES) is refused for review.
    statuses={200: Row(Action.RETRYABLE, "unreadable answer", fixed=True)},
    silent=Row(Action.REJECTED, fixed=True),
)


def api_result(body: Any) -> Any:
    """`result` inside the `<method>_response` wrapper (None when the body has no such wrapper)."""
    if not isinstance(body, dict):
        return None
    wrapper = next((v for k, v in body.items() if k.endswith("_response") and isinstance(v, dict)), None)
    return wrapper.get("result") if wrapper else None
