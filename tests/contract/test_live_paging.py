"""TEMU and AliExpress page by number over a live list with no snapshot: an order that leaves the
window mid-walk moves every row behind it up by one, and the row that slides onto a page already
read is read by neither page; the cursor then moves past it for good.

The emulators keep that hazard; the connectors walk the window again when the list's total moved
during a walk, and when it moved in every walk they allow, they raise ListingMoved (retried, with a
shorter window) instead of ending, which with a single walk would have passed the slid order by.
(The 100,000-order chaos run lost 74 AliExpress orders this way before AliExpress walked
again.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from connectors.aliexpress import client as ali_client
from connectors.ratelimit import RateLimiter
from connectors.registry import PLATFORMS
from connectors.temu import client as temu_client
from pipeline.errors import ListingMoved
from pipeline.ports import TrackedItem, TrackingPush
from tests.contract.harness import HARNESSES


def _temu_shipment(client: Any, page: list[dict[str, Any]], now: datetime) -> TrackingPush:
    """A seller-fulfilled order awaiting shipment, confirmed shipped with all its children."""
    order = next(b["order"] for b in page if b["order"]["parentOrderMap"]["parentOrderStatus"] == 2
                 and b["order"]["orderList"][0]["fulfillmentType"] == "fulfillBySeller")
    return TrackingPush(external_id=order["parentOrderMap"]["parentOrderSn"], carrier="UPS",
                        tracking_number="1ZSHIFT0001", shipped_at=now, items=tuple(TrackedItem(c["orderSn"], c["quantity"]) for c in order["orderList"]))


def _aliexpress_shipment(client: Any, page: list[dict[str, Any]], now: datetime) -> TrackingPush:
    """An order awaiting shipment, fulfilled with every child line."""
    oid = str(next(b["order"]["order_id"] for b in page if b["order"]["order_status"] == "WAIT_SELLER_SEND_GOODS"))
    children = client.order_detail(oid)["child_order_list"]
    return TrackingPush(external_id=oid, carrier="UPS", tracking_number="1ZSHIFT0001", shipped_at=now,
                        items=tuple(TrackedItem(str(c["child_order_id"]), int(c["product_count"])) for c in children))


PLATFORM_CASES: dict[str, tuple[Any, Callable[[dict[str, Any]], str], Callable[..., TrackingPush]]] = {
    "temu": (temu_client, lambda b: b["order"]["parentOrderMap"]["parentOrderSn"], _temu_shipment),
    "aliexpress": (ali_client, lambda b: str(b["order"]["order_id"]), _aliexpress_shipment),
}


@pytest.mark.parametrize("platform", sorted(PLATFORM_CASES))
@pytest.mark.parametrize("repeat", [False, True], ids=["one walk", "walks again"])
def test_an_order_leaving_the_window_mid_walk_is_not_lost_when_the_walk_repeats(
        platform, repeat, redis_client, prefix, monkeypatch):
    module, external_id, shipment = PLATFORM_CASES[platform]
    monkeypatch.setattr(module, "MAX_WALKS", module.MAX_WALKS if repeat else 1)
    harness = HARNESSES[platform]
    with harness.emulator(orders=400, seed=5) as emulator:
        shop, secrets = harness.shop(emulator)
        client = PLATFORMS[platform].client(shop, secrets, RateLimiter(redis_client, prefix))
        until = emulator.clock.now()
        expected = {str(t["id"]) for t in emulator.ground_truth()}
        assert len(expected) > 2 * module.PAGE_SIZE

        pages = client.changed_orders(until - timedelta(days=4), until)
        first = next(pages)
        emulator.clock.advance(60)  # the shipment below updates the order after `until`: it leaves the window
        assert client.push_tracking(shipment(client, first, emulator.clock.now())).accepted

        read = {external_id(b) for b in first}
        try:
            for page in pages:
                read.update(external_id(b) for b in page)
        except ListingMoved:
            assert not repeat and expected - read  # ending here would have moved the cursor past unread orders
        else:
            assert repeat and read == expected
