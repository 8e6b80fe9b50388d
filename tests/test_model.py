from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import msgspec
import pytest

from pipeline.errors import InvalidModel
from pipeline.model import Address, Money, OrderLine, OrderStatus, decode_order, encode
from tests.factories import make_order


@pytest.mark.parametrize(
    ("minor", "currency", "expected"),
    [(1999, "USD", Decimal("19.99")), (1999, "JPY", Decimal("1999")), (1999, "KWD", Decimal("1.999"))],
)
def test_money_from_minor_units_uses_each_currencys_exponent(minor, currency, expected):
    money = Money.from_minor(minor, currency)
    assert money.amount == expected
    assert money.to_minor() == minor


def test_money_rejects_more_decimals_than_the_currency_has_and_unknown_codes():
    with pytest.raises(InvalidModel) as err:
        Money(Decimal("1.5"), "JPY")
    assert err.value.path == "amount"
    with pytest.raises(InvalidModel) as err:
        Money(Decimal("1"), "XYZ")
    assert err.value.path == "currency"
    assert Money(Decimal("1.50"), "USD").amount == Decimal("1.5")


def test_money_from_minor_refuses_floats():
    with pytest.raises(InvalidModel):
        Money.from_minor(19.99, "USD")  # type: ignore[arg-type]


def test_order_line_quantity_must_be_positive_and_cover_shipped_and_cancelled():
    with pytest.raises(InvalidModel) as err:
        OrderLine(line_ids=("1",), platform_sku="A", quantity=0)
    assert err.value.path == "quantity"
    with pytest.raises(InvalidModel) as err:
        OrderLine(line_ids=("1",), platform_sku="A", quantity=2, shipped_quantity=2, cancelled_quantity=1)
    assert err.value.path in {"cancelled_quantity", "shipped_quantity"}
    line = OrderLine(line_ids=("1", "2", "3"), platform_sku="A", quantity=3, shipped_quantity=1)
    assert line.open_quantity == 2


def test_address_country_must_be_alpha2():
    with pytest.raises(InvalidModel) as err:
        Address(country="USA")
    assert err.value.path == "country"


def test_order_rejects_naive_or_non_utc_times():
    order = make_order(1)
    with pytest.raises(InvalidModel) as err:
        msgspec.structs.replace(order, placed_at=datetime(2026, 1, 1))
    assert err.value.path == "placed_at"
    with pytest.raises(InvalidModel):
        msgspec.structs.replace(order, updated_at=datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=8))))


def test_order_key_must_match_its_parts():
    order = make_order(1)
    with pytest.raises(InvalidModel) as err:
        msgspec.structs.replace(order, key="amazon:other:1")
    assert err.value.path == "key"


def test_line_currency_must_match_order_currency_with_the_path_named():
    order = make_order(1)
    line = msgspec.structs.replace(order.lines[0], unit_price=Money(Decimal("3"), "EUR"))
    with pytest.raises(InvalidModel) as err:
        msgspec.structs.replace(order, lines=(order.lines[0], line))
    assert err.value.path == "lines[1].unit_price.currency"


def test_json_round_trip_is_exact_and_decoding_validates():
    order = make_order(7, status=OrderStatus.PARTIALLY_SHIPPED)
    data = encode(order)
    assert decode_order(data) == order
    assert b'"12.50"' in data or b'"12.5"' in data  # Decimal travels as a string, never a float
    broken = data.replace(b'"quantity":2', b'"quantity":-2')
    assert broken != data
    with pytest.raises(msgspec.ValidationError, match="quantity"):
        decode_order(broken)
