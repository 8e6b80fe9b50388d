"""The scripted loopback server the connector tests answer from (tests/scripted_http.py) does what they rely on."""

from __future__ import annotations

import http.client

import pytest

from tests.scripted_http import ScriptedHTTPServer


def _send(server: ScriptedHTTPServer, method: str, target: str, body: bytes | None = None,
          headers: dict[str, str] | None = None, connection: http.client.HTTPConnection | None = None):
    conn = connection or http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=5)
    conn.request(method, target, body=body, headers=headers or {})
    answer = conn.getresponse()
    return answer.status, dict(answer.getheaders()), answer.read()


def test_replies_are_served_in_order_the_last_repeating_on_one_kept_alive_connection(http_server):
    http_server.post("http://127.0.0.1:1/a?ignored=1", status=429, headers={"Retry-After": "0"}, json={"n": 1})
    http_server.post("/a", body=b"second")
    conn = http.client.HTTPConnection(http_server.url.removeprefix("http://"), timeout=5)
    answers = [_send(http_server, "POST", "/a?x=1", b"{}", connection=conn) for _ in range(3)]
    assert [(status, body) for status, _, body in answers] == [(429, b'{"n": 1}'), (200, b"second"), (200, b"second")]
    assert answers[0][1]["Content-Type"] == "application/json" and answers[0][1]["Retry-After"] == "0"
    assert all(headers["Content-Length"] == str(len(body)) for _, headers, body in answers)
    call = http_server.calls[0]
    assert (call.request.method, call.request.url) == ("POST", f"{http_server.url}/a?x=1")
    assert call.request.body == b"{}" and call.request.headers["content-length"] == "2"
    assert [c.response.status_code for c in http_server.calls] == [429, 200, 200]
    http_server.assert_all_fired()


def test_a_bodiless_request_records_none_and_a_chunked_one_its_bytes(http_server):
    http_server.get("/g")
    http_server.put("/p")
    _send(http_server, "GET", "/g")
    conn = http.client.HTTPConnection(http_server.url.removeprefix("http://"), timeout=5)
    conn.request("PUT", "/p", body=iter([b"ab", b"cde"]), encode_chunked=True)
    assert conn.getresponse().status == 200
    assert [c.request.body for c in http_server.calls] == [None, b"abcde"]


def test_a_dropped_reply_closes_the_connection_unanswered(http_server):
    http_server.get("/gone", drop=True)
    with pytest.raises(http.client.RemoteDisconnected):
        _send(http_server, "GET", "/gone")
    assert http_server.calls[0].response is None


def test_an_unmatched_request_is_answered_404_recorded_and_fails_the_test():
    with ScriptedHTTPServer() as server:
        server.get("/known")
        status, _, body = _send(server, "GET", "/unknown")
        assert status == 404 and b"nothing scripted for GET /unknown" in body and b"GET /known" in body
        assert [c.request.path for c in server.unmatched] == ["/unknown"]
        with pytest.raises(AssertionError, match="GET http://127.0.0.1:.*/unknown"):
            server.assert_no_unmatched()
        with pytest.raises(AssertionError, match="GET /known reply #1 of 1"):
            server.assert_all_fired()
