"""The wire form of a connector's request, and what the exchange does and refuses to do on a real socket."""

from __future__ import annotations

import base64
import gzip
from urllib.parse import parse_qsl, urlsplit

import orjson
import pytest
import urllib3

from connectors.exchange import Pools, encode
from connectors.http import Transport
from connectors.proxies import bypassed
from connectors.responses import TRANSPORT_ERRORS, Classifier, Responses
from pipeline.errors import NeedsReview
from pipeline.ports import Limit

TIMEOUT = urllib3.Timeout(connect=2, read=5)
DEFAULT_ONLY: Classifier = Responses()


def test_query_parameters_drop_none_repeat_lists_and_join_an_existing_query():
    out = encode({"method": "get", "url": "http://127.0.0.1:1/a/b?x=1",
                  "params": {"page": 2, "skip": None, "ids": ["A 1", "B&2"], "token": ""}})
    assert out.method == "GET"
    assert parse_qsl(urlsplit(out.url).query, keep_blank_values=True) == [
        ("x", "1"), ("page", "2"), ("ids", "A 1"), ("ids", "B&2"), ("token", "")]
    assert out.body is None and "Content-Type" not in out.headers


def test_a_path_keeps_its_escapes_and_loses_its_spaces():
    out = encode({"method": "GET", "url": "http://127.0.0.1:1/items/S%2F1/two words"})
    assert out.target == "/items/S%2F1/two%20words"


@pytest.mark.parametrize(("field", "value", "body", "kind"), [
    ("data", {"a": "1 2", "b": None, "c": ["x", "y"]}, b"a=1+2&c=x&c=y", "application/x-www-form-urlencoded"),
    ("data", b'{"raw":1}', b'{"raw":1}', None),
    ("data", "text \u00e9", "text \u00e9".encode(), None),
    ("json", {"n": 1, "s": "\u00e9"}, orjson.dumps({"n": 1, "s": "\u00e9"}), "application/json"),
])
def test_bodies_are_encoded_as_requests_did(field, value, body, kind):
    out = encode({"method": "POST", "url": "http://127.0.0.1:1/x", field: value})
    assert out.body == body
    assert out.headers.get("Content-Type") == kind


def test_a_header_the_client_names_replaces_ours_whatever_its_case_and_none_is_left_out():
    out = encode({"method": "POST", "url": "http://127.0.0.1:1/x", "json": {"a": 1},
                  "headers": {"content-type": "application/vnd.x+json", "user-agent": "app/1.0", "Accept": None}})
    assert out.headers.getlist("Content-Type") == ["application/vnd.x+json"]
    assert out.headers.getlist("User-Agent") == ["app/1.0"]
    assert "accept" not in out.headers


def test_one_user_agent_reaches_the_wire(http_server):
    http_server.get("/x", json={})
    Pools().send({"method": "GET", "url": http_server.url + "/x", "headers": {"user-agent": "app/1.0"}}, TIMEOUT)
    sent = http_server.calls[0].request.headers
    assert sent["User-Agent"] == "app/1.0"  # joined as "orderhub, app/1.0" if both had gone


@pytest.mark.parametrize(("host", "port", "no_proxy", "direct"), [
    ("10.1.2.3", 443, "10.0.0.0/8", True),
    ("::1", 8443, "::1", True),
    ("api.example.com", 443, ".example.com", True),
    ("example.com", 443, "example.com", True),
    ("notexample.com", 443, "example.com", False),
    ("api.example.com", 8443, "api.example.com:443", False),
    ("api.example.com", 443, "api.example.com:443", True),
    ("10.1.2.3", 443, "192.168.0.0/16, example.com", False),
    ("anything", None, "*", True),
])
def test_no_proxy_reads_names_ports_addresses_and_blocks(host, port, no_proxy, direct):
    assert bypassed(host, port, no_proxy) is direct


def test_a_proxys_credentials_go_with_every_request_through_it(http_server, monkeypatch):
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", http_server.url.replace("http://", "http://ops%40corp:s3cret@"))
    http_server.get("/through", json={"via": "proxy"})
    answer = Pools().send({"method": "GET", "url": "http://10.9.9.9:9/through"}, TIMEOUT)
    assert answer.status_code == 200
    call = http_server.calls[0].request
    assert call.url.startswith("http://10.9.9.9:9/through")  # the proxy was asked for the origin's URL
    assert call.headers["Proxy-Authorization"] == "Basic " + base64.b64encode(b"ops@corp:s3cret").decode()


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "http://127.0.0.1:99999/x"])
def test_a_malformed_url_is_a_bug_raised_at_once_not_an_outage_to_retry(url):
    with pytest.raises(ValueError) as raised:
        Pools().send({"method": "GET", "url": url}, TIMEOUT)
    assert not isinstance(raised.value, tuple(TRANSPORT_ERRORS))


def test_the_answer_is_read_whole_and_gzip_is_undone(http_server):
    http_server.get("/doc", body=gzip.compress(b'{"ok": true}'), headers={"Content-Encoding": "gzip"})
    answer = Pools().send({"method": "GET", "url": http_server.url + "/doc", "params": {"q": "1"}}, TIMEOUT)
    assert (answer.status_code, answer.content) == (200, b'{"ok": true}')
    assert answer.headers["content-encoding"] == answer.headers["CONTENT-ENCODING"] == "gzip"
    assert http_server.calls[0].request.url.endswith("/doc?q=1")


def test_one_connection_carries_a_shops_calls(http_server):
    http_server.post("/x", json={"n": 1})
    pools = Pools()
    for _ in range(3):
        pools.send({"method": "POST", "url": http_server.url + "/x", "data": b"{}"}, TIMEOUT)
    assert len({call.request.client_port for call in http_server.calls}) == 1


class _Limiter:
    def acquire(self, *args, **kwargs) -> float:
        return 0.0

    def block(self, *args, **kwargs) -> None:
        pass


def test_a_redirect_is_refused_and_never_followed(http_server):
    """A signed request, tokens included, must not go wherever an answer points."""
    http_server.get("/api", status=302, headers={"Location": http_server.url + "/elsewhere"})
    transport = Transport("x", "shop", "acct", _Limiter(), {"*": Limit(100.0, 100)})  # type: ignore[arg-type]
    with pytest.raises(NeedsReview, match="302"):
        transport.call("op", lambda: {"method": "GET", "url": http_server.url + "/api"}, DEFAULT_ONLY)
    assert [call.request.path for call in http_server.calls] == ["/api"]
