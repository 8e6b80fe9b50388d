"""The default response table, and how a platform's declarations override it (connectors/responses.py)."""

from __future__ import annotations

import re
import socket
import time
from typing import Any

import pytest
import urllib3
from urllib3 import HTTPHeaderDict

from connectors.aliexpress.client import classify as aliexpress
from connectors.exchange import Answer, Pools
from connectors.http import Transport
from connectors.responses import (
    DEFAULT,
    TRANSPORT_ERRORS,
    Action,
    Reading,
    Responses,
    Row,
    by_code,
    transport_action,
)
from connectors.temu.client import classify as temu
from connectors.temu.client import classify_optional as temu_optional
from connectors.tiktok.client import classify as tiktok
from connectors.warehouses.fourpx.client import classify as fourpx
from pipeline.errors import UpstreamUnavailable
from pipeline.ports import Limit

DEFAULT_ONLY = Responses()  # no declarations: the table as it stands


def _reply(status: int, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, HTTPHeaderDict(headers or {}), b"")


@pytest.mark.parametrize(("status", "action"), [
    (200, Action.OK), (201, Action.OK), (204, Action.OK),
    (301, Action.REJECTED), (304, Action.REJECTED),
    (400, Action.REJECTED), (404, Action.REJECTED), (409, Action.REJECTED), (422, Action.REJECTED),
    (401, Action.AUTH), (403, Action.AUTH),
    (429, Action.RATE_LIMITED),
    (500, Action.RETRYABLE), (502, Action.RETRYABLE), (503, Action.RETRYABLE), (504, Action.RETRYABLE),
])
def test_each_status_class_maps_to_its_action(status, action):
    verdict = DEFAULT_ONLY(_reply(status), None)
    assert verdict.action is action
    assert verdict.code == ("" if action is Action.OK else str(status))  # no platform code: the status names it


def test_the_table_is_data_that_names_every_class():
    assert {key for key in DEFAULT if isinstance(key, str)} == {"2xx", "3xx", "4xx", "5xx"}
    assert DEFAULT[429] is Action.RATE_LIMITED and DEFAULT[401] is DEFAULT[403] is Action.AUTH


@pytest.mark.parametrize("error", [
    urllib3.exceptions.NewConnectionError(None, "refused"),
    urllib3.exceptions.ConnectTimeoutError("slow to connect"),
    urllib3.exceptions.ReadTimeoutError(None, "/x", "slow to answer"),
    urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError()),
    urllib3.exceptions.SSLError("bad certificate"),
    urllib3.exceptions.ProxyError("proxy down", OSError()),
])
def test_no_answer_at_all_is_retried(error):
    assert transport_action(error) is Action.RETRYABLE
    assert isinstance(error, tuple(TRANSPORT_ERRORS))


def test_a_refused_connection_is_an_error_the_table_maps():
    with socket.socket() as probe:  # a loopback port with nothing listening on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(tuple(TRANSPORT_ERRORS)) as raised:
        Pools().send({"method": "GET", "url": f"http://127.0.0.1:{port}/x"}, urllib3.Timeout(connect=1, read=1))
    assert transport_action(raised.value) is Action.RETRYABLE


def test_a_throttle_honours_retry_after():
    assert DEFAULT_ONLY(_reply(429, {"Retry-After": "7"}), None).retry_after == 7.0
    assert DEFAULT_ONLY(_reply(429), None).retry_after is None  # the transport then waits a second


def test_a_declared_code_overrides_the_default_row():
    declared = Responses(read=lambda body: Reading(code=str(body["code"])),
                         codes=by_code({Action.RETRYABLE: {77}, Action.AUTH: {88}, Action.RATE_LIMITED: {99}}))
    assert declared(_reply(200), {"code": 77}).action is Action.RETRYABLE
    assert declared(_reply(200), {"code": 88}).action is Action.AUTH
    assert declared(_reply(404), {"code": 88}).action is Action.AUTH
    throttled = declared(_reply(200, {"retry-after": "3"}), {"code": 99})
    assert (throttled.action, throttled.code, throttled.retry_after) == (Action.RATE_LIMITED, "99", 3.0)
    assert declared(_reply(200), {"code": 1}).action is Action.OK  # undeclared: the row stands


def test_platform_codes_override_the_default_inside_http_200():
    assert temu(_reply(200), {"success": False, "errorCode": 4000000}).action is Action.RETRYABLE
    assert temu(_reply(200), {"success": False, "errorCode": 4000004}).retry_after == 1.0
    assert tiktok(_reply(200), {"code": 106001, "message": "sign"}).action is Action.AUTH
    # One API's own reading: TEMU's "no permission for this API" refuses that call, not the credentials.
    no_access = {"success": False, "errorCode": 3000027, "errorMsg": "no access"}
    assert temu(_reply(200), no_access).action is Action.AUTH
    refused = temu_optional(_reply(200), no_access)
    assert (refused.action, refused.code, refused.message) == (Action.REJECTED, "3000027", "no access")


def test_a_throttle_or_an_outage_beats_whatever_the_body_says():
    assert tiktok(_reply(503), {"code": 0, "data": {}}).action is Action.RETRYABLE
    assert tiktok(_reply(429), {"code": 106001}).action is Action.RATE_LIMITED
    assert temu(_reply(200), {"success": True, "errorCode": 4000000}).action is Action.RETRYABLE


def test_declared_exceptions_to_the_default_rows():
    # A body without the platform's envelope says nothing about credentials on these platforms.
    assert tiktok(_reply(401), None).action is Action.REJECTED
    assert aliexpress(_reply(403), None).action is Action.REJECTED
    assert aliexpress(_reply(200), "<html>").action is Action.RETRYABLE
    assert fourpx(_reply(401), "<html>").action is Action.RETRYABLE
    # The rows the platforms did not declare are the default's.
    assert aliexpress(_reply(503), None).action is Action.RETRYABLE
    assert fourpx(_reply(429), None).action is Action.RATE_LIMITED


def test_row_words_and_the_status_as_code():
    plain = Responses(statuses={401: Row(Action.AUTH, "token refused")})
    assert plain(_reply(401), None).message == "token refused"
    spoken = Responses(read=lambda body: Reading(message="expired"), statuses={401: Row(Action.AUTH, "token refused")})
    assert spoken(_reply(401), {}).message == "expired"  # the platform's own words come first
    fixed = Responses(read=lambda body: Reading(code="E1", message="m"),
                      statuses={"5xx": Row(Action.RETRYABLE, "down", fixed=True)})
    verdict = fixed(_reply(502), {})
    assert (verdict.code, verdict.message) == ("502", "down")


class _Limiter:
    def acquire(self, *args: Any, **kwargs: Any) -> float:
        return 0.0

    def block(self, *args: Any, **kwargs: Any) -> None:
        pass


HELD = 5.0  # seconds the scripted server holds its answer: far past the transport's read timeout below


@pytest.mark.parametrize("reply", [{"drop": True}, {"delay": HELD, "json": {}}],
                         ids=["connection-closed-unanswered", "answer-outlasts-read-timeout"])
def test_the_transport_raises_a_missing_answer_as_unavailable(reply, http_server):
    transport = Transport("x", "shop", "acct", _Limiter(), {"*": Limit(100.0, 100)},  # type: ignore[arg-type]
                          timeout=(2.0, 0.3))
    http_server.get("/x", **reply)
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable, match=r"^x op: ") as raised:
        transport.call("op", lambda: {"method": "GET", "url": f"{http_server.url}/x"}, DEFAULT_ONLY, attempts=1)
    assert time.monotonic() - started < HELD  # it gave up without an answer, not after a late one
    # No status after the operation: the error says no answer came (which exception said so is the client's).
    assert not re.match(r"x op: \d", str(raised.value))
    assert [call.request.path for call in http_server.calls] == ["/x"]  # reached the server, asked once
