"""Transport behaviour at unit level (a scripted loopback server): signing, classification, retries, paging guards."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from structlog.testing import capture_logs

from config.schema import ShopConfig
from connectors.paging import token_pages
from connectors.ratelimit import RateLimiter
from connectors.tiktok.client import TikTokClient, classify, sign, verify_webhook
from pipeline.errors import AuthenticationFailed, NeedsReview, UpstreamUnavailable

SEARCH = "/order/202309/orders/search"  # paths on the scripted loopback server (the `http_server` fixture)
SECRET = "tt-secret-0123456789abcdef"
SECRETS = {"app_key": "6appkey", "app_secret": SECRET, "refresh_token": "TTP_refresh-token-value"}


def test_tiktok_signature_matches_the_documented_recipe():
    params = {"app_key": "6appkey", "timestamp": "1700000000", "shop_cipher": "GCP_x", "page_size": "100",
              "sign": "ignored", "access_token": "ignored"}
    body = b'{"update_time_ge":1}'
    # The recipe spelled out by hand: secret + path + k1v1k2v2... (sorted, no sign/access_token) + body + secret
    plain = SECRET + "/order/202309/orders/search" + "app_key6appkey" + "page_size100" + "shop_cipherGCP_x" \
        + "timestamp1700000000" + body.decode() + SECRET
    expected = hmac.new(SECRET.encode(), plain.encode(), hashlib.sha256).hexdigest()
    assert sign("/order/202309/orders/search", params, body, SECRET) == expected
    assert expected == expected.lower()


def test_webhook_signature_is_verified_in_constant_time_and_rejects_tampering():
    body = b'{"type":1,"data":{"order_id":"5764"}}'
    good = hmac.new(SECRET.encode(), b"6appkey" + body, hashlib.sha256).hexdigest()
    assert verify_webhook("6appkey", SECRET, body, good)
    assert not verify_webhook("6appkey", SECRET, body + b" ", good)
    assert not verify_webhook("6appkey", SECRET, body, None)


@pytest.fixture
def client(redis_client, prefix, http_server):
    shop = ShopConfig(platform="tiktok", shop_id="acme-tt", credentials={}, base_url=http_server.url)
    c = TikTokClient(shop, SECRETS | {"access_token": "TTP_access"}, RateLimiter(redis_client, prefix))
    c._cipher = "GCP_x"
    return c


def test_throttled_call_honours_retry_after_then_succeeds(client, http_server):
    http_server.post(SEARCH, status=429, headers={"retry-after": "0.2"},
                   json={"code": 36009002, "message": "Too many requests", "data": None})
    http_server.post(SEARCH, json={"code": 0, "message": "Success", "data": {"orders": [], "next_page_token": ""}})
    started = time.monotonic()
    data = client._call("searchOrders", "POST", "/order/202309/orders/search", query={"page_size": 100}, body={})
    assert data == {"orders": [], "next_page_token": ""}
    assert time.monotonic() - started >= 0.2
    sent = dict(parse_qsl(urlsplit(http_server.calls[1].request.url).query))
    assert sent["sign"] == sign("/order/202309/orders/search", sent, http_server.calls[1].request.body, SECRET)


def test_internal_error_inside_http_200_is_retried_then_surfaces_as_unavailable(client, http_server):
    client.transport.max_retry_seconds = 2
    http_server.post(SEARCH, json={"code": 36009003, "message": "Internal error", "data": None})
    with pytest.raises(UpstreamUnavailable):
        client._call("searchOrders", "POST", "/order/202309/orders/search", body={})
    assert len(http_server.calls) >= 2


def test_bad_signature_is_an_auth_error_naming_the_shop_without_secrets(client, http_server):
    http_server.post(SEARCH, json={"code": 106001, "message": "Invalid credentials. The sign is invalid."})
    with capture_logs() as logs, pytest.raises(AuthenticationFailed) as err:
        client._call("searchOrders", "POST", "/order/202309/orders/search", body={})
    assert "acme-tt" in str(err.value) and "106001" in str(err.value)
    for value in SECRETS.values():
        assert value not in str(err.value) and value not in repr(logs)


def test_expired_token_is_refreshed_once(client, http_server):
    http_server.post(SEARCH, json={"code": 105002, "message": "Expired credentials"})
    http_server.get("/api/v2/token/refresh", json={"code": 0, "data": {
        "access_token": "TTP_fresh", "access_token_expire_in": int(time.time()) + 86400, "refresh_token": "TTP_r2"}})
    http_server.post(SEARCH, json={"code": 0, "data": {"orders": [{"id": "1"}], "next_page_token": ""}})
    data = client._call("searchOrders", "POST", "/order/202309/orders/search", body={})
    assert data["orders"] == [{"id": "1"}]
    assert http_server.calls[2].request.headers["x-tts-access-token"] == "TTP_fresh"


def test_rejected_request_is_needs_review(http_server):
    http_server.post(SEARCH, json={"code": 98001004, "message": "Parameter page_size is invalid"})
    reply = requests.post(http_server.url + SEARCH, timeout=5)
    verdict = classify(reply, reply.json())
    http_server.assert_all_fired()
    assert verdict.action.value == "rejected" and verdict.code == "98001004"


def test_token_paging_stops_on_empty_token_and_detects_loops():
    pages = {None: ([1, 2], "a"), "a": ([3], "b"), "b": ([4], "")}
    assert [p for p in token_pages(lambda t: pages[t], what="x")] == [[1, 2], [3], [4]]
    looping = {None: ([1], "a"), "a": ([2], "b"), "b": ([3], "a")}
    with pytest.raises(NeedsReview, match="loop detected"):
        list(token_pages(lambda t: looping[t], what="x"))


def test_ops_can_shorten_every_read_timeout_but_never_lengthen_one(client, monkeypatch, redis_client, prefix,
                                                                   http_server):
    from connectors.http import capped

    assert client.transport.timeout == (5.0, 30.0)
    monkeypatch.setenv("ORDERHUB_HTTP_READ_TIMEOUT", "4")
    shop = ShopConfig(platform="tiktok", shop_id="acme-tt", credentials={}, base_url=http_server.url)
    assert TikTokClient(shop, SECRETS, RateLimiter(redis_client, prefix)).transport.timeout == (5.0, 4.0)
    assert capped((5.0, 20.0)) == (5.0, 4.0)
    monkeypatch.setenv("ORDERHUB_HTTP_READ_TIMEOUT", "90")
    assert capped((5.0, 20.0)) == (5.0, 20.0)
