"""Replay, freshness, binding and order-id checks on webhook pushes, through `workers.webhooks.handle_push`
(the ingress calls it; tests/security's ingress tests cover the HTTP side).

Each push is built and signed by the emulators' own signers (sandbox/*/webhook.py, sandbox/shein/shapes.py)
and verified by the connectors' receivers, on a real Redis under a key prefix of the test's own. Two
sellers share one app key and secret per platform, as a 3PL's shops do: a genuine push for one verifies
at the other's URL, and only binding tells them apart.
"""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import redis
from structlog.testing import capture_logs

from config.schema import ShopConfig
from connectors.registry import get_connector
from pipeline import keys
from pipeline.ports import VerifiedPush
from pipeline.push_guard import refusal, webhook_binding_problems
from sandbox.shein.shapes import aes_encrypt, sign
from sandbox.shein.webhook import random_key
from sandbox.temu import webhook as temu
from sandbox.tiktok import webhook as tiktok
from workers.webhooks import handle_push

TIKTOK_APP = ("tt-3pl-app-key", "tt-3pl-app-secret-0123456789abcdef")
TEMU_APP = ("temu-3pl-app-key", "temu-3pl-app-secret-0123456789")
SHEIN_APP = ("SHEIN3PLAPPID01", "SHEIN3PLAPPSECRET0123456789ABCDEF")
ENV = {"PUSHTEST_TT_KEY": TIKTOK_APP[0], "PUSHTEST_TT_SECRET": TIKTOK_APP[1], "PUSHTEST_TEMU_KEY": TEMU_APP[0],
       "PUSHTEST_TEMU_SECRET": TEMU_APP[1], "PUSHTEST_SHEIN_ID": SHEIN_APP[0], "PUSHTEST_SHEIN_SECRET": SHEIN_APP[1]}
# The platform's own shop ids (TikTok shop_id, TEMU mallId) of each seller's shop.
PLATFORM_IDS = {("seller-a", "tiktok"): "7494000000000000111", ("seller-a", "temu"): "634418210011",
                ("seller-b", "tiktok"): "7494000000000000222", ("seller-b", "temu"): "634418210022"}
# The app's key and secret are shared; each shop has a token (SHEIN: open key) of its own, else it would be
# one platform shop under two sellers, a config error. `{t}` names the shop's token variable.
CREDENTIALS = {
    "tiktok": 'app_key = "env:PUSHTEST_TT_KEY"\napp_secret = "env:PUSHTEST_TT_SECRET"\nrefresh_token = "env:{t}"\n',
    "temu": 'app_key = "env:PUSHTEST_TEMU_KEY"\napp_secret = "env:PUSHTEST_TEMU_SECRET"\naccess_token = "env:{t}"\n',
    "shein": 'app_id = "env:PUSHTEST_SHEIN_ID"\napp_secret = "env:PUSHTEST_SHEIN_SECRET"\n'
             'open_key_id = "env:{t}"\nsecret_key = "env:{t}"\n',
}
SHOPS = ("a-tiktok", "a-temu", "a-shein", "b-tiktok", "b-temu", "b-shein")


def token_variable(shop_id: str) -> str:
    return "PUSHTEST_TOKEN_" + shop_id.upper().replace("-", "_")


def _shop_toml(platform: str, shop_id: str, platform_id: str | None) -> str:
    options = f'options = {{ platform_shop_id = "{platform_id}" }}\n' if platform_id else ""
    return (f'[[shops]]\nplatform = "{platform}"\nshop_id = "{shop_id}"\nregion = "US"\nwebhook = true\n'
            f"{options}[shops.credentials]\n{CREDENTIALS[platform].format(t=token_variable(shop_id))}\n")


def _seller(seller: str) -> str:
    short = seller[-1]
    shops = [_shop_toml(p, f"{short}-{p}", PLATFORM_IDS.get((seller, p))) for p in ("tiktok", "temu", "shein")]
    return f'seller = "{seller}"\n\n' + "".join(shops)


@pytest.fixture
def hook(tmp_path, monkeypatch, redis_client, prefix):
    """`hook(seller, shop_id, headers, body) -> (status, reply)` and the fetches it enqueued."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    for shop_id in SHOPS:
        monkeypatch.setenv(token_variable(shop_id), f"token-of-{shop_id}")
    for seller in ("seller-a", "seller-b"):
        (tmp_path / f"{seller}.toml").write_text(_seller(seller))
    monkeypatch.setenv("ORDERHUB_CONFIG", str(tmp_path))
    enqueued: list[tuple[str, str, str]] = []

    def call(seller, shop_id, headers, body, enqueue=None):
        headers = {k.lower(): v for k, v in headers.items()} | {":path": f"/webhooks/{seller}/{shop_id}"}
        return handle_push(seller, shop_id, headers, body, enqueue or (lambda *args: enqueued.append(args)),
                           redis=redis_client, prefix=prefix)

    call.enqueued = enqueued
    return call


def now_s() -> int:
    return int(time.time())


def year(y: int) -> int:
    return int(datetime(y, 6, 1, tzinfo=UTC).timestamp())


def tiktok_push(shop_id: str, order_id: object, *, at: int | None = None, update_time: int = 1_700_000_000):
    """Type 1 as the emulator sends it (its notification id follows order and update time); `order_id` may
    be any JSON value, put in after the payload is built."""
    payload = tiktok.order_status_payload(shop_id, str(order_id), "AWAITING_SHIPMENT", update_time,
                                          now_s() if at is None else at)
    payload["data"]["order_id"] = order_id
    body, headers = tiktok.build_webhook(*TIKTOK_APP, payload)
    return headers, body


def temu_push(mall_id: str, sn: str, *, at_ms: int | None = None):
    event = temu.order_status_event(mall_id, sn, 2, 1_700_000_000)
    body, headers = temu.build_webhook(*TEMU_APP, event, timestamp_ms=now_s() * 1000 if at_ms is None else at_ms)
    return headers, body


def shein_push(path: str, numbers: list, *, at_ms: int | None = None, key: str = "token-of-a-shein"):
    """Built like sandbox/shein/webhook.py's, with the signed time given (its builder stamps the clock)."""
    stamp = str(now_s() * 1000 if at_ms is None else at_ms)
    body = urlencode({"eventData": aes_encrypt(json.dumps({"orderNoList": numbers}), SHEIN_APP[1])}).encode()
    return {"content-type": "application/x-www-form-urlencoded", "x-lt-openKeyId": key,
            "x-lt-eventCode": "order_push_notice", "x-lt-appid": SHEIN_APP[0], "x-lt-timestamp": stamp,
            "x-lt-signature": sign(SHEIN_APP[0], SHEIN_APP[1], path, stamp, random_key())}, body


def push_for(platform: str, seller: str, order_id: str, *, at: int | None = None):
    """A genuine push for an order of `seller`'s shop of `platform`, signed at `at` (epoch seconds)."""
    if platform == "tiktok":
        return tiktok_push(PLATFORM_IDS[(seller, "tiktok")], order_id, at=at)
    if platform == "temu":
        return temu_push(PLATFORM_IDS[(seller, "temu")], order_id, at_ms=None if at is None else at * 1000)
    return shein_push(f"/webhooks/{seller}/{seller[-1]}-shein", [order_id], at_ms=None if at is None else at * 1000)


OK = {p: get_connector(p).capabilities.webhooks.ok_reply for p in ("tiktok", "temu", "shein")}


# --- replay ----------------------------------------------------------------------------------


def test_the_same_valid_tiktok_push_sent_1000_times_enqueues_one_fetch(hook, redis_client, prefix):
    headers, body = push_for("tiktok", "seller-a", "576486316948490001")
    with capture_logs() as logs:
        replies = [hook("seller-a", "a-tiktok", headers, body) for _ in range(1000)]
    assert replies == [(200, OK["tiktok"])] * 1000
    assert hook.enqueued == [("seller-a", "a-tiktok", "576486316948490001")]
    assert [e["event"] for e in logs].count("webhook.accepted") == 1
    assert [e["event"] for e in logs].count("webhook.replayed") == 999
    (seen,) = redis_client.keys(keys.webhook_seen(prefix, "seller-a", "a-tiktok", "*"))
    assert 590 < redis_client.ttl(seen) <= 600


def test_shein_signature_headers_reused_with_another_body_enqueue_nothing(hook):
    """SHEIN signs the path and time, not the body: captured headers verify on any eventData. The replay
    memory keyed on the signature is what answers them without a fetch."""
    headers, body = push_for("shein", "seller-a", "GSH0000000001")
    assert hook("seller-a", "a-shein", headers, body) == (200, OK["shein"])
    _, other_body = push_for("shein", "seller-a", "GSH0000000002")
    assert hook("seller-a", "a-shein", headers, other_body) == (200, OK["shein"])
    assert hook.enqueued == [("seller-a", "a-shein", "GSH0000000001")]


def test_a_failed_enqueue_is_neither_remembered_nor_coalesced(hook):
    """The ingress answers 503 on the exception; the platform's retry of the same push then gets its fetch."""
    headers, body = push_for("temu", "seller-a", "PO-211-00000000000001")

    def broken(*_args):
        raise ConnectionError("broker down")

    with pytest.raises(ConnectionError):
        hook("seller-a", "a-temu", headers, body, enqueue=broken)
    assert hook("seller-a", "a-temu", headers, body) == (200, OK["temu"])
    assert hook.enqueued == [("seller-a", "a-temu", "PO-211-00000000000001")]


def test_redis_unreachable_raises_and_enqueues_nothing(hook):
    """No 200 without the replay memory: the exception is the ingress's cue for 503."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the call: nothing listens there
    down = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5, socket_timeout=0.5)
    headers, body = push_for("tiktok", "seller-a", "576486316948490001")
    with pytest.raises(redis.ConnectionError):
        handle_push("seller-a", "a-tiktok", {k.lower(): v for k, v in headers.items()}, body,
                    lambda *args: hook.enqueued.append(args), redis=down, prefix="unused")
    assert hook.enqueued == []


# --- freshness -------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["tiktok", "temu", "shein"])
@pytest.mark.parametrize("signed_in", [2010, 2015, 2100])
def test_pushes_signed_far_from_now_are_refused(hook, platform, signed_in):
    """TikTok's body `timestamp` (s), TEMU's `x-tm-timestamp` (ms), SHEIN's `x-lt-timestamp` (ms)."""
    headers, body = push_for(platform, "seller-a", "ORDER0001", at=year(signed_in))
    with capture_logs() as logs:
        assert hook("seller-a", f"a-{platform}", headers, body) == (401, {"error": "signed time outside ±5 min"})
    assert hook.enqueued == []
    assert [e.get("reason") for e in logs if e["event"] == "webhook.rejected"] == ["signed time outside ±5 min"]


@pytest.mark.parametrize("platform", ["tiktok", "temu", "shein"])
@pytest.mark.parametrize(("offset", "status"), [(-360, 401), (-240, 200), (0, 200), (240, 200), (360, 401)])
def test_the_window_is_five_minutes_either_side(hook, platform, offset, status):
    headers, body = push_for(platform, "seller-a", "ORDER0001", at=now_s() + offset)
    assert hook("seller-a", f"a-{platform}", headers, body)[0] == status
    assert hook.enqueued == ([("seller-a", f"a-{platform}", "ORDER0001")] if status == 200 else [])


# --- binding ---------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["tiktok", "temu", "shein"])
def test_seller_as_push_posted_to_seller_bs_url_is_refused(hook, platform):
    """One app key serves both sellers, so A's genuine push verifies at B's URL (TikTok, TEMU) and only the
    shop it names refuses it; SHEIN's signature covers the callback path, which names seller and shop."""
    headers, body = push_for(platform, "seller-a", "ORDER0001")
    status, _ = hook("seller-b", f"b-{platform}", headers, body)
    assert status == 401 and hook.enqueued == []
    assert hook("seller-a", f"a-{platform}", headers, body) == (200, OK[platform])  # its own shop takes it
    assert hook.enqueued == [("seller-a", f"a-{platform}", "ORDER0001")]


def test_the_refusal_says_why(hook):
    headers, body = push_for("tiktok", "seller-a", "ORDER0001")
    assert hook("seller-b", "b-tiktok", headers, body) == (401, {"error": "the push names another platform shop"})


def test_a_push_naming_a_shop_cannot_bind_to_a_shop_without_platform_shop_id():
    """Fail safe: without options.platform_shop_id nothing says which TikTok shop is this one. `config check`
    refuses such a file (below), so this guards a config the check never saw."""
    push = VerifiedPush(order_ids=("ORDER0001",), push_id="n-1", signed_at=datetime.now(UTC), account="7494")
    found = refusal(push, None, datetime.now(UTC))
    assert found is not None and found.status == 401 and "platform_shop_id" in found.reason
    assert refusal(push, "7494", datetime.now(UTC)) is None


def _shop(platform: str, *, webhook: bool = True, options: dict[str, str] | None = None) -> ShopConfig:
    return ShopConfig(platform=platform, shop_id=f"x-{platform}", credentials={}, webhook=webhook,
                      options=options or {})


def test_config_check_names_a_webhook_shop_whose_pushes_cannot_bind():
    receivers = {p: get_connector(p).capabilities.webhooks for p in ("tiktok", "temu", "shein")}
    assert (receivers["tiktok"].names_account, receivers["temu"].names_account) == (True, True)
    assert receivers["shein"].names_account is False
    (problem,) = webhook_binding_problems(_shop("tiktok"), receivers["tiktok"].names_account)
    assert "options.platform_shop_id" in problem and "tiktok" in problem
    assert webhook_binding_problems(_shop("temu", options={"platform_shop_id": " "}), True)  # blank is none
    assert webhook_binding_problems(_shop("temu", options={"platform_shop_id": "634418210011"}), True) == []
    assert webhook_binding_problems(_shop("tiktok", webhook=False), True) == []
    assert webhook_binding_problems(_shop("shein"), receivers["shein"].names_account) == []


def test_config_check_reports_a_webhook_shop_that_cannot_be_bound(tmp_path):
    """`config check` (config/rules.py) runs the same rule: a TikTok shop taking webhooks without the shop id
    its pushes name is a problem of that shop's section, and with it the file is clean."""
    from config.loader import check_file

    seller = tmp_path / "s.toml"
    shop = """[[shops]]
platform = "tiktok"
shop_id = "tt"
base_url = "sandbox"
webhook = true
{options}
[shops.credentials]
app_key = "k"
app_secret = "s"
refresh_token = "r"
"""
    seller.write_text('seller = "s"\nname = "S"\n' + shop.format(options=""))
    _cfg, problems = check_file(seller)
    assert any("shops[0].webhook = true needs options.platform_shop_id" in p for p in problems), problems
    seller.write_text('seller = "s"\nname = "S"\n' + shop.format(options='options = { platform_shop_id = "7494" }'))
    _cfg, problems = check_file(seller)
    assert not any("platform_shop_id" in p for p in problems), problems


# --- order ids -------------------------------------------------------------------------------


@pytest.mark.parametrize("order_id", ["9" * 65, "", "5764;rm -rf", "../../etc/passwd", "order id", "ORD\x00",
                                      "٣٣٣", "5764*", 12.5, True, ["576486316948490001"], {"id": "1"}],
                         ids=repr)
def test_invalid_order_ids_are_refused_with_nothing_enqueued(hook, order_id):
    headers, body = tiktok_push(PLATFORM_IDS[("seller-a", "tiktok")], order_id)
    assert hook("seller-a", "a-tiktok", headers, body)[0] == 400
    assert hook.enqueued == []


@pytest.mark.parametrize("order_id", ["9" * 64, "A_b-9", 576486316948490001])
def test_order_ids_of_1_to_64_letters_digits_dash_underscore_pass(hook, order_id):
    headers, body = tiktok_push(PLATFORM_IDS[("seller-a", "tiktok")], order_id)
    assert hook("seller-a", "a-tiktok", headers, body) == (200, OK["tiktok"])
    assert hook.enqueued == [("seller-a", "a-tiktok", str(order_id))]


def test_one_bad_id_refuses_the_whole_push(hook):
    headers, body = shein_push("/webhooks/seller-a/a-shein", ["GSH0000000001", "GSH/../0002"])
    assert hook("seller-a", "a-shein", headers, body)[0] == 400
    assert hook.enqueued == []


# --- coalescing ------------------------------------------------------------------------------


def test_two_pushes_for_one_order_within_five_seconds_fetch_it_once(hook, redis_client, prefix):
    shop_ref = PLATFORM_IDS[("seller-a", "tiktok")]
    first = tiktok_push(shop_ref, "576486316948490001", update_time=1_700_000_000)
    second = tiktok_push(shop_ref, "576486316948490001", update_time=1_700_000_060)  # another notification
    other = tiktok_push(shop_ref, "576486316948490002")
    assert [hook("seller-a", "a-tiktok", *push) for push in (first, second, other)] == [(200, OK["tiktok"])] * 3
    assert hook.enqueued == [("seller-a", "a-tiktok", "576486316948490001"),
                             ("seller-a", "a-tiktok", "576486316948490002")]
    ttl = redis_client.pttl(keys.webhook_fetch(prefix, "seller-a", "a-tiktok", "576486316948490001"))
    assert 0 < ttl <= 5000


def test_a_fetch_is_asked_again_once_the_coalescing_window_has_passed(hook, redis_client, prefix):
    shop_ref = PLATFORM_IDS[("seller-a", "temu")]
    assert hook("seller-a", "a-temu", *temu_push(shop_ref, "PO-1", at_ms=now_s() * 1000))[0] == 200
    time.sleep(5.2)
    assert hook("seller-a", "a-temu", *temu_push(shop_ref, "PO-1", at_ms=now_s() * 1000 + 1))[0] == 200
    assert hook.enqueued == [("seller-a", "a-temu", "PO-1")] * 2


def test_a_broken_seller_file_leaves_the_other_sellers_webhooks_working(hook, tmp_path):
    """The review's one broken file made every seller's webhooks answer 500. Now the broken seller's push
    raises SellerUnavailable naming its file (the ingress answers 503, the platform retries) while another
    seller's push is taken as before."""
    from config.tenancy import SellerUnavailable

    broken = tmp_path / "seller-c.toml"
    broken.write_text('seller = "seller-c"\n[[shops]]\nplatform = "tiktok"\nshop_id = "c:tiktok*"\n')
    headers, body = push_for("tiktok", "seller-a", "ORDER0042")
    assert hook("seller-a", "a-tiktok", headers, body)[0] == 200 and len(hook.enqueued) == 1
    with pytest.raises(SellerUnavailable) as refused:
        hook("seller-c", "c-tiktok", headers, body)
    assert refused.value.file.endswith("seller-c.toml") and len(hook.enqueued) == 1
