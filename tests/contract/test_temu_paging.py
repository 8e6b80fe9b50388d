"""TEMU pages by number over a live sort: an order that leaves the window mid-walk shifts later pages.

The emulator keeps that hazard (no snapshot); the connector walks the window again when
`totalItemNum` moved during a walk. With a single walk the shifted order is missed.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from connectors.ratelimit import RateLimiter
from connectors.registry import PLATFORMS
from connectors.temu import client as temu_client
from pipeline.ports import TrackedItem, TrackingPush
from tests.contract.harness import HARNESSES

HARNESS = HARNESSES["temu"]


@pytest.mark.parametrize(("walks", "complete"), [(1, False), (temu_client.MAX_WALKS, True)])
def test_an_order_leaving_the_window_mid_walk_is_not_lost_when_the_walk_repeats(
        walks, complete, redis_client, prefix, monkeypatch):
    monkeypatch.setattr(temu_client, "MAX_WALKS", walks)
    with HARNESS.emulator(orders=400, seed=5) as emulator:
        shop, secrets = HARNESS.shop(emulator)
        client = PLATFORMS["temu"].client(shop, secrets, RateLimiter(redis_client, prefix))
        until = emulator.clock.now()
        since = until - timedelta(days=4)
        expected = {t["id"] for t in emulator.ground_truth()}
        assert len(expected) > 2 * temu_client.PAGE_SIZE

        pages = client.changed_orders(since, until)
        first = next(pages)
        moving = next(b for b in first if b["order"]["parentOrderMap"]["parentOrderStatus"] == 2
                      and b["order"]["orderList"][0]["fulfillmentType"] == "fulfillBySeller")
        emulator.clock.advance(60)  # the confirm below updates the order after `until`: it leaves the window
        children = moving["order"]["orderList"]
        sn = moving["order"]["parentOrderMap"]["parentOrderSn"]
        assert client.push_tracking(TrackingPush(
            external_id=sn, carrier="UPS", tracking_number="1ZSHIFT0001", shipped_at=emulator.clock.now(),
            items=tuple(TrackedItem(c["orderSn"], c["quantity"]) for c in children))).accepted

        read = {b["order"]["parentOrderMap"]["parentOrderSn"] for page in [first, *pages] for b in page}
        assert (read == expected) is complete
        if not complete:
            assert len(expected - read) == 1  # exactly the order that slid onto the page already read
