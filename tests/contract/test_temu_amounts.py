"""TEMU bg.order.amount.query end to end: the emulator answers in TEMU's published shape, and an order
TEMU is still pricing (error 140020008) is stored without prices and priced by a later sync.

Source for both: TEMU Partner docs, "Get order amount api" (bg.order.amount.query), its Response Example
and Error Codes, https://partner-us.temu.com/documentation?menu_code=fb16b05f7a904765aac4af3a24b87d4a
&sub_menu_code=ba20da993f7d4605909dd49a5c186c21 (see docs/platforms/temu.md).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.errors import NeedsReview
from pipeline.identity import order_key
from pipeline.model import HoldReason
from pipeline.sync import sync_orders
from tests.contract.harness import HARNESSES
from tests.contract.test_sync_contract import wire

HARNESS = HARNESSES["temu"]
DELAY = timedelta(hours=12)


def _young(emulator, delay: timedelta) -> set[str]:
    now = emulator.clock.now()
    return {t["id"] for t in emulator.ground_truth() if emulator.orders[t["id"]].created_at > now - delay}


def test_amount_query_answers_the_published_shape(redis_client, prefix):
    """`result` is `{parentOrderMap, orderList[], warning[]}`; each money is `{currency, amount}` with an
    integer amount in minor units, as in the published Response Example of 'Get order amount api'."""
    with HARNESS.emulator(orders=20, seed=5) as emulator:
        _, client, _ = wire(HARNESS, emulator, redis_client, prefix)
        sn = emulator.ground_truth()[-1]["id"]
        result = client.call("bg.order.amount.query", parentOrderSn=sn)
        assert set(result) == {"parentOrderMap", "orderList", "warning"} and result["warning"] == []
        parent = result["parentOrderMap"]
        assert parent["parentOrderSn"] == sn
        paid = parent["customerPaid"]
        assert set(paid) == {"currency", "amount"} and type(paid["amount"]) is int
        # customerPaid = retailPriceTotal + shippingAmountTotal + taxTotal - refundsTotal - totalDiscount
        parts = [parent[k]["amount"] for k in ("retailPriceTotal", "shippingAmountTotal", "taxTotal")]
        assert paid["amount"] == sum(parts) - parent["refundsTotal"]["amount"] - parent["totalDiscount"]["amount"]
        assert [row["orderSn"] for row in result["orderList"]]
        assert all(type(row["unitBasePrice"]["amount"]) is int and type(row["quantity"]) is int
                   for row in result["orderList"])


def test_an_order_still_being_priced_is_refused_with_140020008(redis_client, prefix):
    """Error Codes of 'Get order amount api': 140020008, "Some amount fields are still undergoing system
    calculation. Please try again later." The emulator scripts it for orders younger than `pricing_delay`."""
    with HARNESS.emulator(orders=60, seed=5, pricing_delay=DELAY) as emulator:
        _, client, _ = wire(HARNESS, emulator, redis_client, prefix)
        young = sorted(_young(emulator, DELAY))
        assert young
        with pytest.raises(NeedsReview) as refused:
            client.call("bg.order.amount.query", parentOrderSn=young[0])
        assert refused.value.code == "140020008"


def test_unpriced_orders_are_stored_routable_and_priced_by_a_later_sync(store, redis_client, prefix):
    """A 140020008 answer becomes `"amount": null` in the bundle: the order is stored (not held
    INVALID_PAYLOAD) with no unit prices and no totals, and its list row is not remembered, so the next
    sync asks for its amounts again even though the row did not change."""
    with HARNESS.emulator(orders=120, seed=5, pricing_delay=DELAY) as emulator:
        connector, client, ref = wire(HARNESS, emulator, redis_client, prefix)
        now = emulator.clock.now()
        young = _young(emulator, DELAY)
        assert 0 < len(young) < len(emulator.ground_truth())
        sync_orders(store, connector, client, ref, now=now, lookback=timedelta(days=3))
        held = set(store.holds("acme", HoldReason.INVALID_PAYLOAD).get(HoldReason.INVALID_PAYLOAD, []))
        keys = {order_key("temu", ref.shop_id, sn) for sn in young}
        assert not keys & held
        for key in keys:
            order = store.get("acme", key).order
            assert order.totals is None and all(line.unit_price is None for line in order.lines)

        emulator.pricing_delay = timedelta(0)  # TEMU has finished calculating; nothing else changed
        asked = emulator.counters.get("bg.order.amount.query")
        sync_orders(store, connector, client, ref, now=now, since=now - timedelta(days=3))
        assert emulator.counters.get("bg.order.amount.query") - asked == len(young)
        for key in keys:
            order = store.get("acme", key).order
            assert order.totals is not None and all(line.unit_price is not None for line in order.lines)
