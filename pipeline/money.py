"""Money: an exact Decimal amount in one ISO-4217 currency, and an order's totals in it.

Part of the canonical model (pipeline/model.py re-exports both). An amount never has more decimals than
its currency allows; platforms that send integer minor units go through `Money.from_minor`.

Money is what an order costs: a price, a fee, a tax, a discount or a total, each 0 or more and below
MAX_AMOUNT (a discount is a positive amount taken off). Nothing in the model is negative; refunds are
not modelled. The ceiling is one number for every currency, so it must let through the currencies
with the most units to the dollar (10,000,000,000 VND or IDR is a few hundred thousand USD) while
refusing amounts like "1e400"; it also keeps every sum and product of the model's amounts and
quantities well inside Decimal's 28 digits, so arithmetic on them is exact and never raises.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from pipeline.currencies import MINOR_UNITS, is_currency, minor_units
from pipeline.model_checks import invalid, shown

MINOR_STEP = {code: Decimal(1).scaleb(-units) for code, units in MINOR_UNITS.items()}
"""The smallest step of each currency (0.01 USD, 1 JPY), computed once: Money checks it on every construction."""
MAX_AMOUNT = Decimal(10**10)
"""Every amount is below this many major units of its currency (see the module docstring)."""
_ZERO = Decimal(0)
_ZEROS: dict[str, Money] = {}  # Money.zero's shared instances, by currency


class Money(msgspec.Struct, frozen=True, gc=False):
    """An exact amount in one ISO-4217 currency; never more decimals than the currency has.

    The mappings' readers (connectors/values.py `money_of`, `minor_money`, `plain_money`) make these very
    checks themselves, once, then copy the currency's zero and set the amount, rather than run them twice."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        step = MINOR_STEP.get(self.currency) if isinstance(self.currency, str) else None
        if step is None:
            raise invalid("currency", f"not an ISO-4217 code: {self.currency!r}")
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise invalid("amount", f"expected a finite Decimal, got {shown(self.amount)}")
        if not _ZERO <= self.amount < MAX_AMOUNT:  # before quantize, which cannot hold a huge amount
            raise invalid("amount", f"must be 0 or more and below {MAX_AMOUNT:,}, got {shown(self.amount)}")
        if self.amount != self.amount.quantize(step):
            raise invalid("amount", f"{self.amount} has more decimals than {self.currency} allows")

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        """Money from an integer count of minor units (TEMU sends 1999 for 19.99 USD, 1999 for 1999 JPY)."""
        if not isinstance(minor, int) or isinstance(minor, bool):
            raise invalid("amount", f"minor units must be an integer, got {shown(minor)}")
        if not is_currency(currency):
            raise invalid("currency", f"not an ISO-4217 code: {currency!r}")
        return cls(Decimal(minor).scaleb(-minor_units(currency)), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in `currency`: one shared instance per currency (Money is immutable), as totals need many."""
        zero = _ZEROS.get(currency) if cls is Money and isinstance(currency, str) else None
        if zero is None:
            zero = cls(Decimal(0), currency)
            if cls is Money:
                _ZEROS[currency] = zero
        return zero

    def to_minor(self) -> int:
        return int(self.amount.scaleb(minor_units(self.currency)))

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise invalid("currency", f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def times(self, quantity: int) -> Money:
        return Money(self.amount * quantity, self.currency)


class Totals(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    items: Money
    shipping: Money
    tax: Money
    discount: Money
    total: Money

    def __post_init__(self) -> None:
        currency = self.items.currency
        if not self.shipping.currency == self.tax.currency == self.discount.currency == self.total.currency == currency:
            for name in ("shipping", "tax", "discount", "total"):  # name the first one that differs
                if getattr(self, name).currency != currency:
                    raise invalid(name, "all totals must share one currency")
