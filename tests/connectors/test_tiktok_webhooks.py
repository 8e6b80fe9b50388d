"""The TikTok webhook receiver: which order a verified push names, for the pipeline to fetch again."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from connectors.ratelimit import RateLimiter
from connectors.tiktok import CONNECTOR
from connectors.tiktok.client import TikTokClient
from sandbox.core.demo_accounts import TIKTOK_DEMO_SHOPS
from sandbox.core.generator import EventKind
from tests.connectors.fixtures import shop as shop_ref
from tests.contract.harness import HARNESSES
from tests.webhook_sink import webhook_sink

SECRETS = {"app_key": "6a0demo0app0key", "app_secret": "0123456789abcdef0123456789abcdef"}
# TikTok's published event example for "(3) Recipient address update"
# (https://partner.tiktokshop.com/docv2/page/650301af5a12ff0294ea3bf9), byte for byte as a sender would post it.
ADDRESS_UPDATE = b'{"type":3,"shop_id":"7494049642642441621","timestamp":1644412885,' \
                 b'"data":{"order_id":"576486316948490001","update_time":1644412885}}'


def signed(body: bytes, secret: str = SECRETS["app_secret"]) -> dict[str, str]:
    """TikTok's webhook signature: hex HMAC-SHA256(app secret, app key + raw body) in `Authorization`."""
    digest = hmac.new(secret.encode(), SECRETS["app_key"].encode() + body, hashlib.sha256).hexdigest()
    return {"authorization": digest, "content-type": "application/json"}


def order_ids(body: bytes, headers: dict[str, str]) -> tuple[str, ...] | None:
    push = CONNECTOR.capabilities.webhooks.verify(SECRETS, headers, body)
    return None if push is None else push.order_ids


def test_address_update_names_the_order_to_fetch_again():
    assert order_ids(ADDRESS_UPDATE, signed(ADDRESS_UPDATE)) == ("576486316948490001",)


def test_a_push_that_does_not_verify_names_nothing():
    assert order_ids(ADDRESS_UPDATE, signed(ADDRESS_UPDATE, secret="not-the-app-secret")) is None
    assert order_ids(ADDRESS_UPDATE, {"content-type": "application/json"}) is None
    tampered = ADDRESS_UPDATE.replace(b"576486316948490001", b"576486316948490002")
    assert order_ids(tampered, signed(ADDRESS_UPDATE)) is None


@pytest.mark.parametrize("body", [
    b'{"type":5,"shop_id":"7494049642642441621","timestamp":1644412885,"data":{"product_id":"1729592969712207013"}}',
    b'{"type":3,"shop_id":"7494049642642441621","timestamp":1644412885,"data":{}}',
    b'[{"type":3,"data":{"order_id":"576486316948490001"}}]',
    b"not json",
])
def test_other_topics_and_odd_bodies_are_acknowledged_with_nothing_to_fetch(body):
    assert order_ids(body, signed(body)) == ()


def test_the_emulators_address_update_makes_the_connector_read_the_new_address(redis_client, prefix):
    """End to end over HTTP: the emulator pushes type 3 for a buyer's address change, the receiver names
    the order, and the connector's detail call (202507) brings the new ship-to and the flag."""
    harness = HARNESSES["tiktok"]
    with harness.emulator(orders=200) as emulator:
        now = emulator.clock.now()
        oid, change = next((oid, e) for oid, o in sorted(emulator.orders.items()) for e in o.events
                           if e.kind is EventKind.ADDRESS_CHANGED and e.visible_at <= now
                           and o.state(now).address == e.address)
        with webhook_sink() as (base, deliveries):
            assert emulator.deliver_address_updates(f"{base}/hook")[oid] == 200
        (delivery,) = [d for d in deliveries if json.loads(d.body)["data"]["order_id"] == oid]
        secrets = {"app_key": TIKTOK_DEMO_SHOPS[0].app_key, "app_secret": TIKTOK_DEMO_SHOPS[0].app_secret}
        assert CONNECTOR.capabilities.webhooks.verify(secrets, delivery.headers, delivery.body).order_ids == (oid,)
        shop, client_secrets = harness.shop(emulator)
        client: TikTokClient = CONNECTOR.client(shop, client_secrets, RateLimiter(redis_client, prefix))
        bundle = client.fetch_order(oid)
        assert bundle["order"]["has_updated_recipient_address"] is True
        assert emulator.paths_served["GET /order/202507/orders"] == 1
    order = CONNECTOR.map_order(bundle, shop_ref("tiktok"))
    assert order.ship_to.line1 == change.address.line1 and order.ship_to.postal_code == change.address.postal_code
