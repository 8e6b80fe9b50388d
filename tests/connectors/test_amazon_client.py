"""Amazon client: a page's per-order calls overlap, and the answers still land on their own orders."""

from __future__ import annotations

import threading
import time

import pytest

from config.schema import ShopConfig
from connectors.amazon.client import AmazonClient


class _SlowSp:
    """Stands in for `AmazonClient._sp`: each call takes a while; the most in flight at once is kept."""

    def __init__(self, slow: str | None = None) -> None:
        self.lock = threading.Lock()
        self.now = self.most = 0
        self.slow = slow

    def __call__(self, operation: str, method: str, path: str, **_: object) -> dict:
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            order_id = path.split("/")[4] if operation != "createRestrictedDataToken" else ""
            time.sleep(0.3 if order_id == self.slow else 0.05)
            if operation == "getOrderItems":
                return {"payload": {"OrderItems": [{"OrderItemId": f"item-of-{order_id}"}]}}
            if operation == "getOrderAddress":
                return {"payload": {"ShippingAddress": {"City": f"city-of-{order_id}"}}}
            return {"restrictedDataToken": "rdt", "expiresIn": 3600}
        finally:
            with self.lock:
                self.now -= 1


@pytest.fixture
def client(monkeypatch) -> tuple[AmazonClient, _SlowSp]:
    shop = ShopConfig(platform="amazon", shop_id="acme-amazon-us", credentials={}, marketplace="ATVPDKIKX0DER",
                      base_url="http://127.0.0.1:9")
    amazon = AmazonClient(shop, {"seller_id": "A1SELLER"}, None)  # type: ignore[arg-type]
    sp = _SlowSp(slow="111-0000003-0000000")
    monkeypatch.setattr(amazon, "_sp", sp)
    monkeypatch.setattr(amazon, "access_token", lambda force=False: "token")
    return amazon, sp


def test_item_and_address_calls_of_a_page_overlap_and_keep_their_orders(client):
    amazon, sp = client
    ids = [f"111-000000{n}-0000000" for n in range(8)]
    started = time.monotonic()
    items, addresses = amazon._items_and_addresses(ids, need_address=ids[:4])
    took = time.monotonic() - started
    assert items == {oid: [{"OrderItemId": f"item-of-{oid}"}] for oid in ids}
    assert addresses == {oid: {"City": f"city-of-{oid}"} for oid in ids[:4]}
    assert sp.most > 2  # more than one call per side at a time
    # One after another: 8 items (one slow) + 4 addresses + a token = 7*0.05 + 0.3 + ... > 0.65 s per side alone.
    assert took < 0.6


def test_a_failing_item_call_fails_the_page(client, monkeypatch):
    amazon, sp = client

    def failing(operation: str, method: str, path: str, **kw: object) -> dict:
        if path.endswith("111-0000005-0000000/orderItems"):
            raise RuntimeError("boom")
        return sp(operation, method, path, **kw)

    monkeypatch.setattr(amazon, "_sp", failing)
    with pytest.raises(RuntimeError, match="boom"):
        amazon._items_and_addresses([f"111-000000{n}-0000000" for n in range(8)], need_address=[])
