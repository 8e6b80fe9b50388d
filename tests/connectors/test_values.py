"""connectors/values.py's amount readers make Money's checks, once, with Money's verdicts (issue G).

`money_of` makes the checks of Money's `__post_init__` itself and then copies the currency's zero with the
amount set; `minor_money` makes them on the integer; `plain_amounts`/`plain_money` make them for many
amounts at once with one regex. None of them may accept what Money refuses, and the regex path may only
be taken for text that `money_of` accepts, to the same Decimal (same digits, same exponent).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.values import _ZERO_TEXTS, amount_of, minor_money, money_of, plain_amounts, plain_money
from pipeline.errors import InvalidModel, MappingError
from pipeline.model import Money

CURRENCIES = ["USD", "JPY", "KWD", "EUR", "XYZ", "usd", ""]
TEXTS = ["0", "0.0", "0.00", "0.000", "0.0000", "1", "1.", ".5", "1.5", "1.50", "1.505", "19.99", "-0", "-0.00",
         "-1", "+1", " 1", "1 ", "1e2", "1E+2", "1e-2", "NaN", "sNaN", "Infinity", "-Infinity", "9999999999",
         "9999999999.99", "9999999999.999", "10000000000", "010", "0000000000001", "1_000", "١٢", "1\n2", "",
         "12,50", "0x1F"]


def model_verdict(value: object, currency: str) -> tuple[str, object]:
    """What Money itself says of the Decimal of `value` in `currency`."""
    try:
        amount = Decimal(value)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        return "not a decimal", None
    try:
        money = Money(amount, currency)
    except InvalidModel as exc:
        return "refused", exc.message
    return "ok", (str(money.amount), money.currency)


def reader_verdict(value: object, currency: str) -> tuple[str, object]:
    try:
        money = money_of(value, currency, "x")  # type: ignore[arg-type]
    except MappingError as exc:
        assert exc.path == "x"
        return ("not a decimal", None) if exc.message.startswith("not a decimal") else ("refused", exc.message)
    assert type(money) is Money
    return "ok", (str(money.amount), money.currency)


@pytest.mark.parametrize("currency", CURRENCIES)
@pytest.mark.parametrize("text", TEXTS)
def test_money_of_says_what_money_says(text, currency):
    assert reader_verdict(text, currency) == model_verdict(text, currency)
    assert reader_verdict(text, currency) == model_verdict(text, currency)  # again: the zero memo answers


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(text=st.one_of(st.decimals(allow_nan=True, allow_infinity=True).map(str), st.from_regex(r"-?[0-9]{0,12}(\.[0-9]{0,4})?", fullmatch=True), st.text(max_size=12), st.integers(-5, 10**11)),
       currency=st.sampled_from(CURRENCIES))
def test_money_of_and_plain_amounts_agree_with_money(text, currency):
    verdict = model_verdict(text, currency)
    assert reader_verdict(text, currency) == verdict
    plain = plain_amounts([text], currency, whole=True)
    if plain is not None:  # the regex path only for what Money accepts, to the very same Decimal
        assert verdict == ("ok", (str(plain[0]), currency))
        assert str(plain[0]) == str(amount_of(text, currency, "x"))


@pytest.mark.parametrize("currency", CURRENCIES)
def test_plain_amounts_takes_only_what_money_accepts(currency):
    for text in TEXTS:
        plain = plain_amounts([text], currency)
        if plain is not None:
            assert model_verdict(text, currency) == ("ok", (str(plain[0]), currency)), text


def test_plain_amounts_reads_all_or_nothing():
    assert plain_amounts(["1.23", "0.00", "5"], "USD") == [Decimal("1.23"), Decimal("0.00"), Decimal("5")]
    assert [str(a) for a in plain_amounts(["1.23", "0.00", "5"], "USD")] == ["1.23", "0.00", "5"]
    for texts in (["1.23", "1e2"], ["1.23", None], ["1.23", 5], ["1.234"], ["1\n2"], ["1", "2\n"], [], ["1.5"] * 2):
        expected = None if texts != ["1.5"] * 2 else [Decimal("1.5")] * 2
        assert plain_amounts(texts, "USD") == expected, texts
    assert plain_amounts(["1.5"], "JPY") is None and plain_amounts(["1"], "XYZ") is None
    assert plain_amounts(["12", 0], "USD", whole=True) == [Decimal(12), Decimal(0)]
    assert plain_amounts(["12", True], "USD", whole=True) is None  # a bool is no amount
    assert plain_amounts(["12", 1.5], "USD", whole=True) is None  # nor a float
    assert plain_amounts(["12", -1], "USD", whole=True) is None  # a negative one: money_of refuses it


def test_plain_money_is_money_as_the_constructor_makes_it():
    made = plain_money(["19.99", "0.00", "7"], "USD")
    assert made == [Money(Decimal("19.99"), "USD"), Money(Decimal("0.00"), "USD"), Money(Decimal("7"), "USD")]
    assert all(type(m) is Money for m in made) and len({id(m) for m in made}) == 3
    assert Money.zero("USD").amount == 0 and str(Money.zero("USD").amount) == "0"  # the template is untouched


@pytest.mark.parametrize("currency", ["USD", "JPY", "KWD", "XYZ"])
@pytest.mark.parametrize("minor", [0, 1, 1999, 10**12 - 1, 10**12, 10**13, -1, 2**63, True, 1.0])
def test_minor_money_says_what_money_says(minor, currency):
    try:
        expected = ("ok", Money.from_minor(minor, currency))  # type: ignore[arg-type]
        if not expected[1].amount < Decimal(10**10):
            expected = ("refused", None)
    except InvalidModel:
        expected = ("refused", None)
    try:
        got = ("ok", minor_money(minor, currency, "x"))  # type: ignore[arg-type]
    except MappingError as exc:
        assert exc.path == "x"
        got = ("refused", None)
    if minor is True and currency != "XYZ":  # from_minor refuses a bool, as minor_money does (type is int)
        expected = ("refused", None)
    assert got == expected
    if got[0] == "ok":
        assert str(got[1].amount) == str(Money.from_minor(minor, currency).amount)  # same exponent: "0.00"


def test_zero_texts_are_shared_only_once_valid():
    assert "0.00" in _ZERO_TEXTS
    with pytest.raises(MappingError):
        money_of("0.00", "XYZ", "x")
    assert money_of("0.00", "USD", "x") is money_of("0.00", "USD", "y")
    assert str(money_of("0.00", "JPY", "x").amount) == "0.00"  # as Money(Decimal("0.00"), "JPY") keeps it
