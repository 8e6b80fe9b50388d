"""SHEIN mapping over recorded, real-shaped bundles.

The fixture files hold SHEIN's JSON as it arrives, amounts as bare floats (12.98). They are read
with the client's own `decode_exact`, exactly as the client reads a response, so these tests also
prove that an amount never passes through a binary float on its way to Money.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest

from connectors.shein.client import decode_exact
from connectors.shein.mapping import identify, map_order
from pipeline.errors import MappingError
from pipeline.model import FulfilledBy, Money, OrderStatus
from tests.connectors.fixtures import FIXTURES, shop


def raw(name: str) -> bytes:
    return (FIXTURES / "shein" / f"{name}.json").read_bytes()


def shein(name: str):
    return map_order(decode_exact(raw(name)), shop("shein"))


def test_unit_rows_collapse_per_sku_keeping_every_goods_id():
    order = shein("unit_rows_three_of_one_sku")
    mat, bottle, navy, bands = order.lines
    assert bottle.platform_sku == "OH-SWB-SAGE" and bottle.quantity == 3
    assert bottle.line_ids == ("784730341030", "304668656902", "198032278569")
    assert bottle.unit_price == Money(Decimal("19.99"), "USD") and bottle.seller_sku == "OH-SWB-SAGE"
    assert (mat.quantity, navy.quantity, bands.quantity) == (1, 1, 1) and mat.line_ids == ("119454419984",)
    assert order.units == 6 and order.status is OrderStatus.READY and order.fulfilled_by is FulfilledBy.SELLER
    assert order.platform_status == "1"


def test_plus_0800_times_become_utc():
    order = shein("unit_rows_three_of_one_sku")
    assert order.placed_at == datetime(2026, 3, 1, 4, 36, 9, tzinfo=UTC)  # "2026-03-01T12:36:09.000+0800"
    assert order.updated_at == datetime(2026, 3, 1, 4, 46, 4, tzinfo=UTC)
    assert order.ship_by == datetime(2026, 3, 3, 4, 36, 9, tzinfo=UTC)


def test_address_comes_from_the_export_with_the_country_name_as_a_code():
    address = shein("unit_rows_three_of_one_sku").ship_to
    assert address.country == "US" and address.pii_complete
    assert (address.name, address.line1, address.city, address.region, address.postal_code) == (
        "Linda Brown", "60 Pine Road", "Austin", "TX", "78745")
    assert address.line2 is None and address.phone == "+1 669-555-4064"
    german = shein("eu_vat_germany")
    assert german.ship_to.country == "DE" and german.currency == "EUR"


def test_float_amounts_stay_exact_decimals():
    order = shein("float_amounts_exact")
    first, second, third = (line.unit_price for line in order.lines[:3])
    assert first == Money(Decimal("12.98"), "USD")
    assert (second.amount, third.amount) == (Decimal("0.1"), Decimal("0.2"))
    totals = order.totals
    assert totals.items.amount == Decimal("13.68") and totals.shipping.amount == Decimal("0.2")
    assert totals.discount.amount == Decimal("0.3")
    # 13.68 + 0.2 + 0.1 - 0.3 in binary floats is 13.680000000000001; here it is exact.
    assert totals.total.amount == Decimal("13.68") and 13.68 + 0.2 + 0.1 - 0.3 != 13.68


def test_a_bundle_decoded_with_binary_floats_is_refused_not_approximated():
    with pytest.raises(MappingError) as err:
        map_order(orjson.loads(raw("float_amounts_exact")), shop("shein"))
    assert err.value.path == "order.orderGoodsInfoList[0].sellerCurrencyPrice"


def test_us_totals_add_sales_tax_on_top():
    totals = shein("unit_rows_three_of_one_sku").totals
    assert totals.items.amount == Decimal("137.94") and totals.tax.amount == Decimal("11.39")
    assert totals.total == Money(Decimal("149.33"), "USD")


def test_refunded_and_rejected_orders_are_cancelled_with_every_unit():
    refunded = shein("cancelled_refunded")
    assert refunded.status is OrderStatus.CANCELLED and refunded.platform_status == "6"
    assert all(line.cancelled_quantity == line.quantity for line in refunded.lines)
    assert any(line.quantity > 1 for line in refunded.lines)
    rejected = shein("rejected_by_seller")
    assert rejected.status is OrderStatus.CANCELLED and rejected.platform_status == "9"
    assert refunded.ship_to.country == "FR" and not refunded.ship_to.pii_complete and refunded.ship_to.name is None


def test_shein_fulfilled_order_is_the_platforms():
    order = shein("shein_fulfilled")
    assert order.fulfilled_by is FulfilledBy.PLATFORM and order.platform_status == "3"
    assert order.ship_to.city and not order.ship_to.pii_complete  # SHEIN never exports its address


def test_waybills_count_shipped_units_and_status_2_becomes_partially_shipped():
    order = shein("partially_shipped")
    assert order.status is OrderStatus.PARTIALLY_SHIPPED
    shipped = sum(line.shipped_quantity for line in order.lines)
    assert 0 < shipped < order.units


def test_shipped_order_without_address_bundle_is_incomplete_but_located():
    order = shein("shipped_no_address")
    assert order.status is OrderStatus.SHIPPED
    assert all(line.shipped_quantity == line.quantity for line in order.lines)
    assert order.ship_to.country == "US" and order.ship_to.postal_code and not order.ship_to.pii_complete


@pytest.mark.parametrize(("name", "path"), [
    ("broken_order_time", "order.orderTime"),
    ("broken_goods_without_sku", "order.orderGoodsInfoList[1].skuCode"),
    ("broken_amount_text", "order.productTotalPrice"),
    ("broken_country", "address.country"),
])
def test_broken_bundles_name_the_field_path(name, path):
    with pytest.raises(MappingError) as err:
        shein(name)
    assert err.value.path == path
    identity = identify(decode_exact(raw(name)))
    assert identity.external_id == "GSH97742088383317"
    assert identity.updated_at == datetime(2026, 3, 1, 4, 46, 4, tzinfo=UTC)


def test_identify_never_raises():
    assert identify({"order": {"orderNo": "GSH1", "orderMsgUpdateTime": "soon"}}).updated_at is None
    assert identify({"nothing": 1}).external_id is None
    assert identify([]).external_id is None


def _with(name: str, **order_fields) -> dict:
    bundle = decode_exact(raw(name))
    bundle["order"].update(order_fields)
    return bundle


@pytest.mark.parametrize("status", [1, 2])
@pytest.mark.parametrize("performance", [2, 3, None, "1"])
def test_an_order_to_ship_with_an_unverified_performance_type_is_held_not_ignored(status, performance):
    """No public source found says what performanceType's values mean: searched SHEIN's open-platform
    pages (https://open.sheincorp.com), the public clients easycb/easycb-go shein/model_order.go (the
    field is an untyped int there) and the Hemi "Shein Get Orders" guide; see docs/platforms/shein.md.
    Only the value seller-shipped orders carry (1) lets an order still to ship go on."""
    with pytest.raises(MappingError) as err:
        map_order(_with("unit_rows_three_of_one_sku", orderStatus=status, performanceType=performance), shop("shein"))
    assert err.value.path == "order.performanceType" and "held for review" in err.value.message


def test_performance_type_never_makes_an_order_the_platforms():
    """orderStatus 3 is "pending SHEIN shipment" in SHEIN's "Customer Order API" order-list enum; that,
    not performanceType, is what records an order as SHEIN's to ship."""
    shipped = map_order(_with("shipped_no_address", performanceType=2), shop("shein"))
    assert shipped.fulfilled_by is FulfilledBy.SELLER and shipped.status is OrderStatus.SHIPPED
    ours = map_order(_with("shein_fulfilled", performanceType=1), shop("shein"))
    assert ours.fulfilled_by is FulfilledBy.PLATFORM


def test_the_client_fetches_the_address_of_every_order_still_to_ship():
    """So an order held over its performanceType is released by a replay, without another export."""
    from connectors.shein.client import needs_ship_to

    assert needs_ship_to({"orderStatus": 1, "performanceType": 2})
    assert needs_ship_to({"orderStatus": "2", "performanceType": 1})
    assert not needs_ship_to({"orderStatus": 3, "performanceType": 1})
