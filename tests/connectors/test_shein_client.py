"""SHEIN client pieces that need no sync: key decryption, windows, classification, webhook receiver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from config.schema import ShopConfig
from connectors.http import Action
from connectors.ratelimit import RateLimiter
from connectors.shein import CONNECTOR
from connectors.shein.client import SheinClient, classify, decode_exact, windows
from pipeline.errors import AuthenticationFailed
from sandbox import SandboxClock
from sandbox.core.demo_accounts import SHEIN_DEMO_SHOPS
from sandbox.shein.emulator import SheinEmulator
from tests.webhook_sink import webhook_sink

US = SHEIN_DEMO_SHOPS[0]
SECRETS = {"app_id": US.app_id, "app_secret": US.app_secret, "open_key_id": US.open_key_id,
           "secret_key": US.secret_key}


def _shop() -> ShopConfig:
    return ShopConfig(platform="shein", shop_id="acme-shein-us", credentials={}, base_url="http://127.0.0.1:9")


@pytest.mark.parametrize("broken", [{"secret_key": US.secret_key[::-1]}, {"app_secret": "x" * 36},
                                    {"secret_key": "not base64 at all!"}])
def test_a_secret_key_that_does_not_decrypt_is_an_auth_failure_naming_the_shop(broken, redis_client, prefix):
    secrets = SECRETS | broken
    with pytest.raises(AuthenticationFailed) as err:
        SheinClient(_shop(), secrets, RateLimiter(redis_client, prefix))
    assert err.value.shop == "acme-shein-us" and "acme-shein-us" in str(err.value)
    assert all(value not in str(err.value) for value in secrets.values())


def test_the_delivered_secret_key_decrypts(redis_client, prefix):
    client = SheinClient(_shop(), SECRETS, RateLimiter(redis_client, prefix))
    assert client._secret_key == US.secret_key_plain


def test_windows_cover_the_range_without_gaps_and_respect_the_limit():
    since = datetime(2026, 3, 1, 0, 0, 0, 400_000, tzinfo=UTC)
    until = datetime(2026, 3, 4, 1, 0, 0, 200_000, tzinfo=UTC)
    parts = list(windows(since, until, timedelta(hours=12)))
    assert parts[0][0] == since.replace(microsecond=0)
    assert parts[-1][1] == datetime(2026, 3, 4, 1, 0, 1, tzinfo=UTC)  # rounded up: nothing before `until` lost
    assert all(b[0] == a[1] for a, b in zip(parts, parts[1:], strict=False))  # each boundary second read by both
    assert all(timedelta(0) < end - start <= timedelta(hours=12) for start, end in parts)
    with pytest.raises(ValueError):
        SheinClient(_shop(), SECRETS, None, window=timedelta(hours=49))  # type: ignore[arg-type]


def test_decode_exact_keeps_float_text():
    doc = decode_exact(b'{"a": 12.98, "b": 0.1, "c": 1980, "d": 1e-2}')
    assert doc == {"a": "12.98", "b": "0.1", "c": 1980, "d": "1e-2"}
    assert Decimal(doc["a"]) == Decimal("12.98")


class _Reply:
    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status_code, self.headers = status, headers or {}


@pytest.mark.parametrize(("status", "body", "action"), [
    (200, {"code": "0", "info": {}}, Action.OK),
    (200, {"code": "40001", "msg": "signature"}, Action.AUTH),
    (200, {"code": "40003", "msg": "openKeyId"}, Action.AUTH),
    (200, {"code": "42900", "msg": "too frequent"}, Action.RATE_LIMITED),
    (429, None, Action.RATE_LIMITED),
    (503, None, Action.RETRYABLE),
    (200, {"code": "50000"}, Action.RETRYABLE),
    (200, {"code": "10002", "msg": "parameter error"}, Action.REJECTED),
])
def test_envelope_codes_are_classified(status, body, action):
    assert classify(_Reply(status), body).action is action


@pytest.fixture
def delivered():
    """Two webhook deliveries from the emulator (genuine, forged), captured with their path."""
    with webhook_sink() as (base, deliveries), SheinEmulator(
            clock=SandboxClock(start=datetime(2026, 3, 2, 12, tzinfo=UTC), factor=0), orders=50) as emu:
        oid = next(r["id"] for r in emu.ground_truth() if r["account"] == US.open_key_id)
        emu.send_order_webhook(f"{base}/webhooks/acme/acme-shein-us", oid)
        emu.send_order_webhook(f"{base}/webhooks/acme/acme-shein-us", oid, forge=True)
    received = [(d.headers, d.body, d.path) for d in deliveries]
    return oid, received


def test_webhook_receiver_verifies_and_names_the_order(delivered):
    oid, ((headers, body, path), (forged_headers, forged_body, _)) = delivered
    secrets = SECRETS | {"webhook_path": path}
    receiver = CONNECTOR.capabilities.webhooks
    assert receiver.verify(secrets, headers, body).order_ids == (oid,)
    assert receiver.verify(secrets, forged_headers, forged_body) is None
    assert receiver.verify(SECRETS | {"webhook_path": "/elsewhere"}, headers, body) is None
    assert receiver.verify(secrets, headers | {"x-lt-timestamp": "1"}, body) is None
    assert receiver.verify(SECRETS, headers | {":path": path}, body).order_ids == (oid,)  # path from the server
    assert receiver.verify(SECRETS, headers, body) is None  # no path to check the signature against
    assert receiver.verify(secrets, headers | {"x-lt-eventcode": "return_order_push_notice"}, body).order_ids == ()
    assert receiver.ok_reply is True



@pytest.mark.parametrize("bisect", [True, False])
def test_every_order_in_the_range_is_read_once_even_with_repeated_page_rows(bisect, redis_client, prefix):
    from tests.contract.harness import HARNESSES

    harness = HARNESSES["shein"]
    with harness.emulator(orders=600, seed=4) as emulator:
        emulator.configure_faults(duplicate_rate=1.0, seed=2)  # every page boundary repeats its last row
        shop, secrets = harness.shop(emulator)
        client = SheinClient(shop, secrets, RateLimiter(redis_client, prefix), window=timedelta(hours=48),
                             bisect=bisect)
        until = emulator.clock.now()
        since = until - timedelta(hours=60)
        read = [bundle["order"]["orderNo"] for page in client.changed_orders(since, until) for bundle in page]
        truth = {o["id"] for o in emulator.ground_truth() if since <= datetime.fromisoformat(o["updated_at"]) < until}
        assert len(read) == len(set(read)) and set(read) == truth and len(truth) > 200
        assert all(len(page) <= 30 for page in client.changed_orders(since, until))


@pytest.mark.parametrize("bisect", [True, False])
def test_an_update_between_page_reads_skips_a_row_unless_each_window_fits_one_page(bisect, redis_client, prefix):
    from tests.contract.harness import HARNESSES

    harness = HARNESSES["shein"]
    with harness.emulator(orders=300, seed=4) as emulator:
        shop, secrets = harness.shop(emulator)
        client = SheinClient(shop, secrets, RateLimiter(redis_client, prefix), window=timedelta(hours=48),
                             bisect=bisect)
        read_page = client._list_page
        moved: list[str] = []

        def list_page_then_update_one(start, end, page):
            info = read_page(start, end, page)
            if not moved:  # right after the first read, SHEIN moves a listed order to "pending shipment"
                victim = next(r["orderNo"] for r in info["orderList"] if r["orderStatus"] == "1")
                emulator.acknowledged[victim] = emulator.clock.now()
                moved.append(victim)
            return info

        client._list_page = list_page_then_update_one
        until = emulator.clock.now()
        since = until - timedelta(hours=40)
        read = {b["order"]["orderNo"] for page in client.changed_orders(since, until) for b in page}
        truth = {o["id"] for o in emulator.ground_truth() if since <= datetime.fromisoformat(o["updated_at"]) <= until}
        assert moved and moved[0] in read and len(truth) > 60
        assert len(truth - read) == (0 if bisect else 1)  # plain paging loses the row that slid back
