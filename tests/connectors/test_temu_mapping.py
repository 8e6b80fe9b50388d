from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.temu.mapping import identify, map_order
from pipeline.errors import MappingError
from pipeline.model import FulfilledBy, Money, OrderStatus
from tests.connectors.fixtures import bundle, shop


def temu(name: str):
    return map_order(bundle("temu", name), shop("temu"))


def test_children_become_lines_with_usd_minor_units_made_exact():
    order = temu("usd_local_ready")
    bottle, skillet = order.lines
    assert order.external_id == "PO-211-10293847561029384" and order.key == "temu:acme-temu:PO-211-10293847561029384"
    assert order.status is OrderStatus.READY and order.platform_status == "UN_SHIPPING"
    assert order.fulfilled_by is FulfilledBy.SELLER
    assert bottle.line_ids == ("211-20193847561029381",) and bottle.quantity == 2
    assert bottle.platform_sku == "501009876543210" and bottle.seller_sku == "OH-SWB-BLACK"
    assert bottle.unit_price == Money(Decimal("19.99"), "USD")
    assert skillet.unit_price == Money(Decimal("32.99"), "USD")
    assert order.totals.items == Money(Decimal("72.97"), "USD")
    assert order.totals.tax == Money(Decimal("5.97"), "USD")
    assert order.totals.total == Money(Decimal("84.93"), "USD")
    assert order.placed_at == datetime.fromtimestamp(1772355302, UTC)
    assert order.updated_at == datetime.fromtimestamp(1772362502, UTC)
    assert order.ship_by == datetime.fromtimestamp(1772528102, UTC)
    address = order.ship_to
    assert address.country == "US" and address.region == "CA" and address.city == "Los Angeles"
    assert address.pii_complete and address.phone == "+1 213-555-0142"


def test_jpy_amounts_have_no_minor_units():
    order = temu("jpy_global")
    assert order.currency == "JPY"
    assert order.lines[0].unit_price == Money(Decimal("1980"), "JPY")
    assert order.totals.total == Money(Decimal("4460"), "JPY")
    assert order.ship_to.country == "JP"


def test_semi_mall_uses_product_sku_id():
    (line,) = temu("semi_gbp").lines
    assert line.platform_sku == "701005555555555" and line.seller_sku == "OH-YGM-PURPLE"
    assert line.unit_price == Money(Decimal("26.99"), "GBP")


def test_pending_order_stays_pending_without_address():
    order = temu("pending_no_address")
    assert order.status is OrderStatus.PENDING and order.platform_status == "PENDING"
    assert order.ship_to is None
    assert order.totals.total == Money(Decimal("84.93"), "USD")


def test_partially_shipped_counts_the_shipped_child_only():
    order = temu("partially_shipped")
    bottle, skillet = order.lines
    assert order.status is OrderStatus.PARTIALLY_SHIPPED
    assert (bottle.shipped_quantity, bottle.open_quantity) == (2, 0)
    assert (skillet.shipped_quantity, skillet.open_quantity) == (0, 1)


def test_cancelled_children_keep_their_original_quantity_as_cancelled():
    order = temu("cancelled")
    assert order.status is OrderStatus.CANCELLED
    assert [(line.quantity, line.cancelled_quantity, line.open_quantity) for line in order.lines] == [(2, 2, 0), (1, 1, 0)]


def test_cooperative_warehouse_orders_are_temus_to_fulfil():
    order = temu("platform_fulfilled")
    assert order.fulfilled_by is FulfilledBy.PLATFORM and order.status is OrderStatus.SHIPPED


def test_masked_phone_makes_the_address_incomplete():
    address = temu("masked_phone").ship_to
    assert not address.pii_complete and address.phone is None
    assert address.name == "Maria Garcia" and address.line1 == "845 S Figueroa St"


@pytest.mark.parametrize(("name", "path"), [
    ("broken_update_time", "order.parentOrderMap.updateTime"),
    ("broken_child_without_goods_id", "order.orderList[1].goodsId"),
    ("broken_amount_as_decimal", "amount.parentOrderAmount.customerPaid.amount"),
    ("broken_semi_without_sku", "order.orderList[0].productList[0].productSkuId"),
])
def test_broken_bundles_name_the_field_path(name, path):
    with pytest.raises(MappingError) as err:
        temu(name)
    assert err.value.path == path
    assert identify(bundle("temu", name)).external_id.startswith("PO-")


def test_identify_never_raises():
    assert identify({"order": "nonsense"}).external_id is None
    assert identify(bundle("temu", "broken_update_time")).updated_at is None
    assert identify(bundle("temu", "usd_local_ready")).updated_at == datetime.fromtimestamp(1772362502, UTC)
