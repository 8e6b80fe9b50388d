from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.temu.mapping import identify, map_order
from pipeline.errors import MappingError
from pipeline.model import FulfilledBy, Money, OrderStatus
from pipeline.routing import address_problem
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


AMOUNT_DOC = ("TEMU Partner docs, 'Get order amount api' (bg.order.amount.query), Response Example and Error Codes: "
              "https://partner-us.temu.com/documentation?menu_code=fb16b05f7a904765aac4af3a24b87d4a"
              "&sub_menu_code=ba20da993f7d4605909dd49a5c186c21")


def test_published_amount_shape_maps_unit_prices_and_totals():
    """`result.parentOrderMap` + `result.orderList[]` + `result.warning[]`, every money a `{currency, amount}`
    with `amount` a LONG of minor units (cents for USD). Keys, nesting and number types follow TEMU's
    published Response Example for bg.order.amount.query ('Get order amount api', partner.temu.com docs,
    see AMOUNT_DOC); the values are made up, and keep the documented identity customerPaid =
    retailPriceTotal + shippingAmountTotal + taxTotal - refundsTotal - totalDiscount."""
    order = temu("published_amount_shape")
    bottle, skillet = order.lines
    assert bottle.unit_price == Money(Decimal("19.99"), "USD")
    assert skillet.unit_price == Money(Decimal("32.99"), "USD")
    totals = order.totals
    assert totals.items == Money(Decimal("72.97"), "USD") and totals.shipping == Money(Decimal("5.99"), "USD")
    assert totals.tax == Money(Decimal("5.97"), "USD") and totals.discount == Money(Decimal("3.00"), "USD")
    assert totals.total == Money(Decimal("81.93"), "USD")


def test_amount_still_being_calculated_maps_without_prices():
    """TEMU answers bg.order.amount.query with error 140020008 "Some amount fields are still undergoing
    system calculation. Please try again later." (Error Codes of 'Get order amount api', AMOUNT_DOC); the
    client then stores the bundle with `"amount": null`. The order maps with no unit price and no totals,
    never zero, and stays routable: status, lines, SKUs and address are all there."""
    order = temu("amount_still_calculating")
    assert order.status is OrderStatus.READY and order.totals is None
    assert [line.unit_price for line in order.lines] == [None, None]
    assert [line.platform_sku for line in order.lines] == ["501009876543210", "501009876543211"]
    assert order.currency == "USD" and order.ship_to.country == "US" and order.ship_to.pii_complete


def test_pending_order_without_amount_or_address_takes_the_currency_from_region_211():
    """No amount (140020008, AMOUNT_DOC) and no address (PENDING): the currency comes from `regionId` 211,
    which TEMU's bg.order.list.v2.get request parameters document as the USA ("USA - 211")."""
    order = temu("pending_amount_still_calculating")
    assert order.status is OrderStatus.PENDING and order.currency == "USD"
    assert order.totals is None and all(line.unit_price is None for line in order.lines)


def test_unpriced_order_with_no_known_country_is_a_mapping_error_not_a_guess():
    """Only regionId 211 (USA) is published; with no amount (140020008, AMOUNT_DOC) and no address the
    currency is unknown, so the bundle is a MappingError at `amount` rather than a guessed currency."""
    raw = bundle("temu", "pending_amount_still_calculating")
    raw["order"]["parentOrderMap"]["regionId"] = 104
    with pytest.raises(MappingError) as err:
        map_order(raw, shop("temu"))
    assert err.value.path == "amount"


@pytest.mark.parametrize(("name", "path"), [
    ("broken_update_time", "order.parentOrderMap.updateTime"),
    ("broken_child_without_goods_id", "order.orderList[1].goodsId"),
    ("broken_amount_as_decimal", "amount.parentOrderMap.customerPaid.amount"),
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


DECRYPT_DOC = ("TEMU Partner docs, bg.order.decryptshippinginfo.get, response fields (receiptName, mobile, mail, "
               "regionName1-4, addressLine1-3, postCode, addressLineAll, addressExtra), as copied in "
               "https://github.com/linkfox-ai/linkfox-skills/blob/main/skills/linkfox-temu-order-us/references/apis/"
               "bg-order-decryptshippinginfo-get.md")
SEMI_MASKING = ("TEMU masks semi-managed orders' ship-to since 2025-03-17: country, city, state and postcode "
                "readable, the rest '***' (https://help.dianxiaomi.com/help_center/article/orderManagement/2995)")


def test_decrypted_ship_to_is_complete():
    """The decrypt API's `result` has the shippinginfo fields in the clear and no `warning` (DECRYPT_DOC);
    the same mapping reads it, and with nothing masked the address is pii_complete with the phone."""
    address = temu("decrypted_shipping").ship_to
    assert address.pii_complete and address.phone == "+1 213-555-0142"
    assert (address.name, address.line1, address.line2) == ("Maria Garcia", "845 S Figueroa St", "Apt 4B")
    assert (address.country, address.region, address.city, address.postal_code) == ("US", "CA", "Los Angeles", "90017")


def test_a_masked_phone_does_not_hold_the_order():
    """Only the phone masked: name and street are kept, the address is not pii_complete, and routing finds
    nothing missing (it holds ADDRESS_INCOMPLETE only without a name or a first street line)."""
    address = temu("masked_phone").ship_to
    assert not address.pii_complete and address.phone is None
    assert address_problem(address) is None


def test_a_masked_name_and_street_are_withheld_and_the_order_held():
    """A SEMI mall's masked ship-to (SEMI_MASKING): asterisks are never copied into the address; without a
    name and street the order is held ADDRESS_INCOMPLETE until the decrypted ship-to is read."""
    address = temu("semi_masked_address").ship_to
    assert (address.name, address.phone, address.line1, address.line2) == (None, None, None, None)
    assert not address.pii_complete
    assert (address.country, address.city, address.region, address.postal_code) == (
        "GB", "London", "Greater London", "SW1A 2AA")
    assert "name or street" in address_problem(address)


def test_a_masked_region_level_is_withheld_too():
    """Source G names country, state, city and postcode as what a SEMI mall leaves readable: a district
    (regionName4) shown as asterisks must not be copied into the address as if it were a place."""
    import orjson

    from connectors.temu.mapping import map_order
    from tests.connectors.fixtures import FIXTURES, shop

    bundle = orjson.loads((FIXTURES / "temu" / "semi_masked_address.json").read_bytes())
    bundle["shipping"]["regionName4"] = "******"
    address = map_order(bundle, shop("temu")).ship_to
    assert address.district is None and not address.pii_complete
