from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.aliexpress.mapping import identify, map_order
from pipeline.errors import MappingError
from pipeline.model import FulfilledBy, Money, OrderStatus
from tests.connectors.fixtures import bundle, shop


def aliexpress(name: str):
    return map_order(bundle("aliexpress", name), shop("aliexpress"))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_product_count_is_the_quantity_and_child_id_the_line_id():
    order = aliexpress("ready_two_products")
    throw, bottle = order.lines
    assert (throw.platform_sku, throw.quantity, throw.line_ids) == ("OH-CTB-CREAM", 2, ("8130474502159011",))
    assert throw.unit_price == Money(Decimal("44.99"), "USD") and throw.open_quantity == 2
    assert (bottle.platform_sku, bottle.quantity) == ("OH-SWB-SAGE", 1)
    assert order.external_id == "8173055886100469" and order.status is OrderStatus.READY
    assert order.fulfilled_by is FulfilledBy.SELLER
    assert order.totals.items == Money(Decimal("109.97"), "USD")
    assert order.totals.total == Money(Decimal("119.04"), "USD")
    assert order.totals.shipping == Money(Decimal("9.07"), "USD")  # fees and added tax, not split by the listing
    # March 1st is still PST (UTC-8).
    assert order.placed_at == utc(2026, 3, 1, 12, 8, 40) and order.updated_at == utc(2026, 3, 1, 12, 10, 36)
    address = order.ship_to
    assert address.pii_complete and address.country == "US" and address.region == "TX"
    assert address.phone == "+14025556261" and address.postal_code == "78745"


def test_fall_back_hour_created_in_pdt_and_paid_in_pst():
    """Created 01:40 and paid 01:05 the same night: only PDT-then-PST keeps paying after placing."""
    order = aliexpress("fall_back_created_in_pdt_paid_in_pst")
    assert order.placed_at == utc(2026, 11, 1, 8, 40)  # 01:40 PDT
    assert order.updated_at == utc(2026, 11, 1, 9, 10)  # 01:10 PST, after the 01:05 PST payment


def test_fall_back_hour_created_in_the_second_occurrence():
    """Created 01:55, paid 02:02 PST: 01:55 PST is seven minutes before paying, PDT would be 67."""
    order = aliexpress("fall_back_created_in_pst")
    assert order.placed_at == utc(2026, 11, 1, 9, 55)
    assert order.updated_at == utc(2026, 11, 1, 11, 0)


def test_fall_back_hour_with_nothing_to_tell_reads_the_first_occurrence():
    order = aliexpress("fall_back_undecided")
    assert order.placed_at == utc(2026, 11, 1, 8, 20) and order.updated_at == utc(2026, 11, 1, 8, 30)


def test_spring_forward_gap_time_reads_as_pst_unless_the_order_says_otherwise():
    order = aliexpress("spring_forward_gap")  # 02:30 never shows on a Pacific clock that night
    assert order.placed_at == utc(2026, 3, 8, 10, 30) and order.updated_at == utc(2026, 3, 8, 11, 0)
    raw = bundle("aliexpress", "spring_forward_gap")
    raw["order"]["gmt_pay_time"] = "2026-03-08 03:10:00"  # 10:10 UTC: placing must have been 09:30 UTC
    assert map_order(raw, shop("aliexpress")).placed_at == utc(2026, 3, 8, 9, 30)


def test_jpy_amounts_have_no_minor_units():
    order = aliexpress("jpy")
    assert order.currency == "JPY" and order.totals.total == Money(Decimal("5560"), "JPY")
    assert order.lines[0].unit_price == Money(Decimal("2180"), "JPY")
    assert order.ship_to.country == "JP" and order.ship_to.name == "山田 美咲"


def test_cancelled_order_is_finish_without_goods_sent():
    order = aliexpress("cancelled")
    assert order.platform_status == "FINISH" and order.status is OrderStatus.CANCELLED
    assert all(line.cancelled_quantity == line.quantity for line in order.lines)
    assert order.ship_to is None


def test_finish_after_goods_sent_is_delivered():
    raw = bundle("aliexpress", "cancelled")
    raw["order"].update(logistics_status="BUYER_ACCEPT_GOODS", gmt_send_goods_time="2026-02-28 09:00:00")
    raw["order"].pop("end_reason")
    order = map_order(raw, shop("aliexpress"))
    assert order.status is OrderStatus.DELIVERED and all(line.open_quantity == 0 for line in order.lines)


def test_unpaid_order_without_address_waits_with_no_ship_to():
    order = aliexpress("unpaid_no_address")
    assert order.status is OrderStatus.PENDING and order.ship_to is None


def test_partial_shipment_counts_the_shipped_product_and_uk_becomes_gb():
    order = aliexpress("partially_shipped_uk")
    shipped, waiting = order.lines
    assert order.status is OrderStatus.PARTIALLY_SHIPPED
    assert (shipped.shipped_quantity, waiting.shipped_quantity, waiting.open_quantity) == (1, 0, 1)
    assert order.ship_to.country == "GB" and order.ship_to.city == "Manchester"


@pytest.mark.parametrize(("name", "path"), [
    ("broken_create_time", "order.gmt_create"),
    ("broken_product_without_count", "order.product_list.order_product_dto[0].product_count"),
    ("broken_pay_amount_number", "order.pay_amount.amount"),
    ("broken_country", "address.country"),
])
def test_broken_bundles_name_the_field_path(name, path):
    with pytest.raises(MappingError) as err:
        aliexpress(name)
    assert err.value.path == path
    identity = identify(bundle("aliexpress", name))
    assert identity.external_id == str(bundle("aliexpress", name)["order"]["order_id"])
    assert identity.updated_at is not None


def test_identify_never_raises():
    assert identify({"order": "nope"}).external_id is None
    assert identify(None).external_id is None
    assert identify({"order": {"order_id": 5, "gmt_update": 17}}).updated_at is None
