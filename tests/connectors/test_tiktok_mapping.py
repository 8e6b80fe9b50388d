from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.tiktok.mapping import identify, map_order
from pipeline.errors import MappingError
from pipeline.model import FulfilledBy, Money, OrderStatus
from tests.connectors.fixtures import bundle, shop


def tiktok(name: str):
    return map_order(bundle("tiktok", name), shop("tiktok"))


def test_unit_rows_collapse_per_sku_keeping_every_unit_id():
    order = tiktok("unit_rows_three_of_one_sku")
    throw, pillow = order.lines
    assert throw.platform_sku == "ACME-THROW-01" and throw.quantity == 3
    assert throw.line_ids == ("577660011", "577660012", "577660013")
    assert throw.unit_price == Money(Decimal("19.99"), "USD")
    assert pillow.quantity == 1 and pillow.line_ids == ("577660014",)
    assert order.status == OrderStatus.READY and order.fulfilled_by == FulfilledBy.SELLER
    assert order.placed_at == datetime.fromtimestamp(1772355302, UTC)
    assert order.ship_by == datetime.fromtimestamp(1772524799, UTC)
    assert order.totals.total == Money(Decimal("75.97"), "USD")
    assert order.ship_to.pii_complete and order.ship_to.region == "California" and order.ship_to.city == "Los Angeles"


def test_fbt_order_is_tiktoks_to_fulfil():
    order = tiktok("fbt")
    assert order.fulfilled_by == FulfilledBy.PLATFORM and order.status == OrderStatus.SHIPPED


def test_cancelled_units_are_counted():
    order = tiktok("cancelled")
    (line,) = order.lines
    assert order.status == OrderStatus.CANCELLED and line.quantity == 2 and line.cancelled_quantity == 2


def test_partially_shipping_counts_the_shipped_unit():
    (line,) = tiktok("partially_shipping").lines
    assert (line.quantity, line.shipped_quantity, line.open_quantity) == (3, 1, 2)


def test_masked_name_and_phone_make_the_address_incomplete_and_are_dropped():
    address = tiktok("masked_address").ship_to
    assert not address.pii_complete and address.name is None and address.phone is None
    assert address.line1 == "845 S Figueroa St" and address.country == "US"


def test_a_us_order_masked_whole_withholds_street_and_postcode_and_holds():
    """Under TikTok's US rule (changelog "US market: Changes to recipient_address masking", 21 July 2025)
    street lines, postcode and L3 are masked with the name: none of the asterisks becomes an address."""
    from pipeline.routing import address_problem

    doc = bundle("tiktok", "masked_address")
    recipient = doc["order"]["recipient_address"]
    recipient.update(address_line1="8***", postal_code="9***")
    for level in recipient["district_info"]:
        if level["address_level"] == "L3":
            level["address_name"] = "L***"
    address = map_order(doc, shop("tiktok")).ship_to
    assert (address.line1, address.postal_code, address.city) == (None, None, None)
    assert address.region and not address.pii_complete
    assert "name or street" in address_problem(address)


def test_unpaid_order_has_no_address_and_waits():
    order = tiktok("unpaid_no_address")
    assert order.ship_to is None and order.status == OrderStatus.PENDING


def test_jpy_amounts_keep_no_minor_units():
    order = tiktok("jpy")
    assert order.currency == "JPY" and order.lines[0].unit_price == Money(Decimal("1980"), "JPY")
    assert order.totals.total == Money(Decimal("4460"), "JPY") and order.ship_to.country == "JP"


@pytest.mark.parametrize(("name", "path"), [
    ("broken_create_time", "order.create_time"),
    ("broken_line_without_sku", "order.line_items[3].sku_id"),
    ("broken_total_as_number", "order.payment.total_amount"),
])
def test_broken_bundles_name_the_field_path(name, path):
    with pytest.raises(MappingError) as err:
        tiktok(name)
    assert err.value.path == path
    assert identify(bundle("tiktok", name)).external_id == "576461413038785001"
