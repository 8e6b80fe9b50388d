"""Amazon's order totals: the five sums of an order's item amounts, as the mapping reads them.

`ItemPrice`, `ShippingPrice`, `ItemTax`, `ShippingTax`, `PromotionDiscount` and `ShippingDiscount` are per
item; the order's totals are their sums (items, shipping, tax, discount) and `OrderTotal`, computed when
Amazon leaves it out. `plain_totals` sums amounts the mapping's one-regex read made (and checked) at
once; `read_totals` reads each amount on its own, naming the field that fails. Both refuse alike.
"""

from __future__ import annotations

from decimal import Decimal

from connectors.amazon import wire
from connectors.values import amount_of, checked_money, money
from pipeline.errors import InvalidModel, MappingError
from pipeline.model import MAX_AMOUNT, Money, OrderStatus, Totals

# The item amounts that add up to each total, in the order Amazon lists them.
SHIPPING, TAX, DISCOUNT = ("ShippingPrice",), ("ItemTax", "ShippingTax"), ("PromotionDiscount", "ShippingDiscount")
_NOTHING = Decimal(0)  # what sum() starts from


def plain_totals(plain: tuple[list[Decimal], list[Decimal], list[Decimal], list[Decimal], Decimal | None],
                 currency: str) -> Totals:
    """`read_totals` of the amounts mapping.py's `_plain_amounts` read (and checked): the same sums, each
    refused as `read_totals` refuses it."""
    prices, shipping, tax, discount, order_total = plain
    # Every addend passed Money's checks in `currency` (plain_amounts), so each sum is 0 or more, exact and
    # with the currency's decimals: only the ceiling is open, checked here (refused by `money`/Money with the
    # model's message, at the same path as before); then `checked_money` makes the Money without
    # __post_init__. The OrderTotal itself passed every check (plain_amounts).
    items, shipped, taxed, discounted = (sum(prices, _NOTHING), sum(shipping, _NOTHING), sum(tax, _NOTHING),
                                         sum(discount, _NOTHING))
    if items < MAX_AMOUNT and shipped < MAX_AMOUNT and taxed < MAX_AMOUNT and discounted < MAX_AMOUNT:
        item_total = checked_money(items, currency)
        sums = [checked_money(shipped, currency), checked_money(taxed, currency), checked_money(discounted, currency)]
    else:  # one at or past the ceiling: refused by the model, at the path of the first such sum
        item_total = money(items, currency, "items[*].ItemPrice")
        sums = []
        for added, fields in ((shipped, SHIPPING), (taxed, TAX), (discounted, DISCOUNT)):
            try:
                sums.append(Money(added, currency))
            except InvalidModel as exc:
                raise MappingError(f"items[*].{{{','.join(fields)}}}", exc.message) from None
    shipping_total, tax_total, discount_total = sums
    if order_total is None:  # computed: refused when the discounts exceed what they discount
        total = money(item_total.amount + shipping_total.amount - discount_total.amount, currency,
                      "order.OrderTotal (items + shipping - discounts)")
    else:
        total = checked_money(order_total, currency)
    return Totals(items=item_total, shipping=shipping_total, tax=tax_total, discount=discount_total, total=total)


def amount_in(value: wire.Money, currency: str) -> Decimal:
    """One Amazon Money in the order currency; a MappingError names the field inside it (`.Amount`)."""
    if value.CurrencyCode != currency:
        raise MappingError("CurrencyCode", f"{value.CurrencyCode} differs from the order currency {currency}")
    try:
        return amount_of(value.Amount, currency)
    except MappingError as exc:
        raise exc.at("Amount") from None


def _sum(items: list[wire.Item], fields: tuple[str, ...], currency: str) -> Money:
    """The listed amounts of every item added up; an item without one of them adds nothing. Each addend
    is below MAX_AMOUNT, so the sum is exact; a sum at or past it is refused as the total it makes."""
    total = Decimal(0)
    for field in fields:
        for item in items:
            value = getattr(item, field)
            if value is not None:
                try:
                    total += amount_in(value, currency)
                except MappingError as exc:
                    raise exc.at(f"items[{items.index(item)}].{field}") from None
    try:
        return Money(total, currency)
    except InvalidModel as exc:
        raise MappingError(f"items[*].{{{','.join(fields)}}}", exc.message) from None


def read_totals(order: wire.Order, items: list[wire.Item], prices: list[Decimal | None], currency: str,
            status: OrderStatus) -> Totals | None:
    if status is OrderStatus.PENDING or None in prices:
        return None  # Amazon withholds pricing while an order is Pending
    item_total = money(sum(prices, Decimal(0)), currency, "items[*].ItemPrice")
    shipping, tax, discount = _sum(items, SHIPPING, currency), _sum(items, TAX, currency), \
        _sum(items, DISCOUNT, currency)
    if order.OrderTotal is None:  # computed: refused when the discounts exceed what they discount
        total = money(item_total.amount + shipping.amount - discount.amount, currency,
                      "order.OrderTotal (items + shipping - discounts)")
    else:
        try:
            total = Money(amount_in(order.OrderTotal, currency), currency)
        except MappingError as exc:
            raise exc.at("order.OrderTotal") from None
    return Totals(items=item_total, shipping=shipping, tax=tax, discount=discount, total=total)
