from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.amazon.mapping import identify, map_order
from pipeline.errors import MappingError
from pipeline.model import FulfilledBy, Money, OrderStatus
from tests.connectors.fixtures import bundle, shop


def amazon(name: str):
    return map_order(bundle("amazon", name), shop("amazon"))


def test_mfn_unshipped_order_maps_field_by_field():
    order = amazon("mfn_unshipped_us")
    assert order.key == "amazon:acme-amazon:112-3456789-1234567"
    assert (order.status, order.platform_status, order.fulfilled_by) == (OrderStatus.READY, "Unshipped", FulfilledBy.SELLER)
    assert order.placed_at == datetime(2026, 3, 1, 9, 15, 2, tzinfo=UTC)
    assert order.updated_at == datetime(2026, 3, 1, 10, 2, 44, tzinfo=UTC)
    assert order.ship_by == datetime(2026, 3, 3, 7, 59, 59, tzinfo=UTC)
    mug, tray = order.lines
    assert mug.line_ids == ("12345678901234",) and mug.platform_sku == "ACME-MUG-01-FBM" and mug.quantity == 2
    assert mug.unit_price == Money(Decimal("19.99"), "USD")  # ItemPrice 39.98 is the line total for 2
    assert tray.unit_price == Money(Decimal("19.99"), "USD") and tray.quantity == 1
    assert order.totals.items.amount == Decimal("59.97") and order.totals.total.amount == Decimal("59.97")
    address = order.ship_to
    assert (address.country, address.city, address.region, address.postal_code) == ("US", "AUSTIN", "TX", "78701-1234")
    assert address.name == "Harriet Oakenfold" and address.line1 == "1411 Lavaca St" and address.pii_complete


def test_afn_order_is_amazons_to_fulfil():
    order = amazon("afn_shipped")
    assert order.fulfilled_by == FulfilledBy.PLATFORM and order.status == OrderStatus.SHIPPED
    assert order.lines[0].shipped_quantity == 1


def test_cancelled_order_with_zeroed_quantities_maps_with_no_open_lines():
    order = amazon("cancelled")
    assert order.status == OrderStatus.CANCELLED and order.platform_status == "Canceled"
    assert order.lines == () and order.totals is not None and order.currency == "USD"


def test_partially_shipped_keeps_shipped_and_open_units():
    order = amazon("partially_shipped")
    (line,) = order.lines
    assert order.status == OrderStatus.PARTIALLY_SHIPPED
    assert (line.quantity, line.shipped_quantity, line.open_quantity) == (3, 1, 2)
    assert line.unit_price.amount == Decimal("24.99")


def test_restricted_address_without_rdt_is_incomplete():
    address = amazon("restricted_address").ship_to
    assert address.country == "US" and address.city == "AUSTIN" and address.postal_code == "78701-1234"
    assert address.name is None and address.line1 is None and not address.pii_complete


def test_pending_order_without_pricing_or_address():
    order = amazon("pending_no_pricing")
    assert order.status == OrderStatus.PENDING and order.ship_to is None and order.totals is None
    assert order.lines[0].unit_price is None and order.currency == "USD"  # from the marketplace


def test_jpy_order_has_no_minor_units():
    order = amazon("jpy_unshipped")
    assert order.currency == "JPY" and order.lines[0].unit_price == Money(Decimal("2980"), "JPY")
    assert order.totals.tax == Money(Decimal("542"), "JPY") and order.ship_to.country == "JP"


@pytest.mark.parametrize(("name", "path"), [
    ("broken_order_total_amount", "order.OrderTotal.Amount"),
    ("broken_missing_purchase_date", "order.PurchaseDate"),
    ("broken_item_quantity", "items[1].QuantityOrdered"),
])
def test_broken_bundles_name_the_field_path(name, path):
    with pytest.raises(MappingError) as err:
        amazon(name)
    assert err.value.path == path
    identity = identify(bundle("amazon", name))
    assert identity.external_id is not None  # a broken bundle can still be filed under its order


def test_not_a_bundle_at_all():
    with pytest.raises(MappingError) as err:
        map_order({"orders": []}, shop("amazon"))
    assert err.value.path == "order"


def test_published_sandbox_order_dated_1970_is_held_and_maps_once_dated_in_range():
    """Amazon's canned sandbox order (ordersV0 getOrders TEST_CASE_200, tests/fixtures/amazon/as_sent.json)
    carries PurchaseDate 1970-01-19: outside 2000 to 2100, so it is held at that field; the rest of the
    published shape (ids, nulls, amounts) still maps once its dates are moved into range."""
    published = bundle("amazon", "as_sent")
    with pytest.raises(MappingError) as err:
        map_order(published, shop("amazon"))
    assert err.value.path == "order.PurchaseDate" and "2000-01-01" in err.value.message
    for field in ("PurchaseDate", "LastUpdateDate", "EarliestShipDate", "LatestShipDate"):
        if field in published["order"]:
            published["order"][field] = published["order"][field].replace("1970-01-19", "2026-03-01")
    order = map_order(published, shop("amazon"))
    assert order.external_id == "902-1845936-5435065" and order.totals.total == Money(Decimal("11.01"), "USD")
    assert order.placed_at == datetime(2026, 3, 1, 3, 58, 30, tzinfo=UTC)


def test_zero_quantity_item_becomes_no_line_but_a_note():
    doc = bundle("amazon", "mfn_unshipped_us")
    doc["items"][1]["QuantityOrdered"] = 0
    order = map_order(doc, shop("amazon"))
    (mug,) = order.lines
    assert mug.platform_sku == "ACME-MUG-01-FBM"
    (note,) = order.notes
    assert note.startswith("items[1] (OrderItemId 12345678905678, SKU ACME-TRAY-02) has QuantityOrdered 0")


def test_cancelled_order_notes_every_zeroed_item():
    assert amazon("cancelled").notes == (
        "items[0] (OrderItemId 33334444555566, SKU ACME-MUG-01-FBM) has QuantityOrdered 0: no line for it",)


def test_an_open_order_whose_every_item_is_zero_is_held_not_emptied():
    doc = bundle("amazon", "mfn_unshipped_us")
    for item in doc["items"]:
        item["QuantityOrdered"] = 0
    with pytest.raises(MappingError) as err:
        map_order(doc, shop("amazon"))
    assert err.value.path == "items"
