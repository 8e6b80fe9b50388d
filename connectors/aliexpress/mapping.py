"""AliExpress raw bundle → canonical Order. Pure: no I/O, one typed error naming the field path.

Bundle: {"order": <order_dto as order.get lists it>, "address": <receiptinfo result, or null>}.
Quirks undone here: every time is a Pacific wall-clock string (see `resolve_times` for the autumn
hour that happens twice and the spring hour that never happens); money is {amount, currency_code};
quantities are `product_count`; cancelled orders are FINISH with an end reason; the address
spells the United Kingdom "UK"; the listing gives no fee breakdown.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec
import orjson

from connectors.aliexpress import wire
from connectors.aliexpress.pacific import ORDERED_TIMES, _instant, pacific_readings, readings, resolve_times
from connectors.aliexpress.pacific import PACIFIC as PACIFIC
from connectors.fields import Doc, canonical_order, decode_bundle, identify_order
from connectors.values import (
    checked_money,
    currency_of,
    line_error,
    money,
    money_of,
    plain_money,
    quantity_of,
    zero_money,
)
from pipeline.countries import country_code_from_name
from pipeline.errors import InvalidModel, MappingError
from pipeline.model import (
    MAX_AMOUNT,
    MAX_QUANTITY,
    Address,
    FulfilledBy,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Totals,
)
from pipeline.ports import BundleIdentity, ShopRef

# Where each OrderLine field comes from in a product, for the path of a value the model refuses.
LINE_FIELDS = {"line_ids": "child_id", "platform_sku": "sku_code", "quantity": "product_count"}
PRODUCTS = "order.product_list.order_product_dto"
ITEMS_PATH = f"{PRODUCTS}[*] (product_unit_price × product_count)"

_DECODER = msgspec.json.Decoder(wire.Bundle)
_NO_ITEMS = Decimal(0)  # the sum of no line prices (Money(Decimal(0)) keeps "0")

STATUS = {
    "PLACE_ORDER_SUCCESS": OrderStatus.PENDING,  # not paid
    "RISK_CONTROL": OrderStatus.PENDING,  # payment under AliExpress's fraud check
    "WAIT_SELLER_EXAMINE_MONEY": OrderStatus.PENDING,
    "IN_CANCEL": OrderStatus.PENDING,  # the buyer asked to cancel: do not ship while that is open
    "WAIT_SELLER_SEND_GOODS": OrderStatus.READY,
    "SELLER_PART_SEND_GOODS": OrderStatus.PARTIALLY_SHIPPED,
    "WAIT_BUYER_ACCEPT_GOODS": OrderStatus.SHIPPED,
    "FUND_PROCESSING": OrderStatus.DELIVERED,
}
GOODS_SENT = {"SELLER_SEND_GOODS", "SELLER_SEND_PART_GOODS", "BUYER_ACCEPT_GOODS"}
SHIPPED_LINE = {"WAIT_BUYER_ACCEPT_GOODS", "FUND_PROCESSING"}


def identify(bundle: dict[str, Any]) -> BundleIdentity:
    return identify_order(bundle, "order_id", _updated_at)


def map_order(bundle: dict[str, Any], shop: ShopRef) -> Order:
    """A bundle as a dict (tests, the CLI): mapped exactly as the stored bytes are."""
    return map_raw(orjson.dumps(bundle, option=orjson.OPT_SORT_KEYS), shop)


def map_raw(raw: bytes, shop: ShopRef) -> Order:
    """The pipeline's path: the bundle bytes the store keeps → Order. Flat on purpose: each call, closure
    and f-string here is paid per order (bench/normalize.py)."""
    bundle = decode_bundle(_DECODER, raw)
    order = bundle.order
    status = _status(order)
    pay, send = order.gmt_pay_time, order.gmt_send_goods_time
    placed, updated = _instant(order.gmt_create), _instant(order.gmt_update)
    if (placed is None or updated is None or (pay is not None and _instant(pay) is None)
            or (send is not None and _instant(send) is None)):  # an hour not seen yet, or one that repeats
        times = resolve_times(_readings(order))
        placed, updated = times["gmt_create"], times["gmt_update"]
    products = order.product_list.order_product_dto
    paid = order.pay_amount
    currency = paid.currency_code
    texts: list[str] | None = [paid.amount]
    for product in products:  # one regex over every amount, when all are in the order currency
        price = product.product_unit_price
        if price.currency_code != currency:
            texts = None
            break
        texts.append(price.amount)
    prices = None if texts is None else plain_money(texts, currency)
    lines, items = _lines(products, status, prices)
    currency = currency_of(currency, "order.pay_amount.currency_code")
    ship_to = _address(bundle.address)
    totals = _totals(items, prices[0], True) if prices is not None else _totals(items, _paid(paid), False)
    return canonical_order(
        shop, order.order_id,
        platform_status=order.order_status,
        status=status,
        fulfilled_by=FulfilledBy.SELLER,  # AliExpress has no platform-fulfilment programme in our scope
        placed_at=placed,
        updated_at=updated,
        currency=currency,
        lines=lines,
        ship_to=ship_to,
        totals=totals,
    )


def _paid(pay_amount: wire.Money) -> Money:
    try:
        return _money(pay_amount)
    except MappingError as exc:
        raise exc.at("order.pay_amount") from None


def _status(order: wire.Order) -> OrderStatus:
    """FINISH covers both a completed and a closed-unfulfilled order; goods sent tells them apart."""
    raw = order.order_status
    sent = order.logistics_status in GOODS_SENT or order.gmt_send_goods_time is not None
    if raw == "FINISH":
        return OrderStatus.DELIVERED if sent else OrderStatus.CANCELLED
    if raw in ("IN_ISSUE", "IN_FROZEN"):  # a dispute or a freeze: shipped or not, nothing to send now
        return OrderStatus.SHIPPED if sent else OrderStatus.PENDING
    if raw not in STATUS:
        raise MappingError("order.order_status", f"unknown status {raw!r}")
    return STATUS[raw]


# --- Pacific time (connectors/aliexpress/pacific.py reads them) ------------------------------


def _readings(order: wire.Order) -> dict[str, list[datetime]]:
    """The readings of each time the order has, by name in `ORDERED_TIMES` order."""
    options = {}
    for name in ORDERED_TIMES:
        value = getattr(order, name)
        if value is not None:
            try:
                options[name] = readings(value)
            except MappingError as exc:
                raise exc.at(f"order.{name}") from None
    return options


def _updated_at(order: Doc) -> datetime:
    try:
        return resolve_times({name: pacific_readings(order[name]) for name in ORDERED_TIMES
                              if name in ("gmt_create", "gmt_update") or order[name].present()})["gmt_update"]
    except MappingError:
        return pacific_readings(order["gmt_update"])[0]  # another time is broken: the update's default


# --- money, lines, address -----------------------------------------------------------------------


def _money(value: wire.Money) -> Money:
    """An AliExpress Money; a MappingError names the field inside it, for the caller to prefix with `.at()`."""
    return money_of(value.amount, currency_of(value.currency_code, "currency_code"), "amount")


def _lines(products: list[wire.Product], status: OrderStatus, prices: list[Money] | None
           ) -> tuple[tuple[OrderLine, ...], Decimal]:
    """One line per product. A product_count of 0 is held, not dropped: it is the line's quantity
    (docs/platforms/aliexpress.md), and 0 of it is no known shape, so it is never read as "nothing to ship".
    `prices`: the pay amount then each product's unit price, read already (plain_money), or None to read
    each here. Also the sum of unit price × quantity over the lines, for `_totals`."""
    delivered, cancelled = status is OrderStatus.DELIVERED, status is OrderStatus.CANCELLED
    lines = []
    items = _NO_ITEMS
    for i, product in enumerate(products):
        quantity = product.product_count
        if not 0 < quantity <= MAX_QUANTITY:  # (the wire Struct made it an int)
            quantity_of(quantity, PRODUCTS, i, "product_count")
        shipped = quantity if delivered or product.son_order_status in SHIPPED_LINE else 0
        if prices is not None:
            unit_price = prices[i + 1]
        else:
            try:
                unit_price = _money(product.product_unit_price)
            except MappingError as exc:
                raise exc.at(f"{PRODUCTS}[{i}].product_unit_price") from None
        try:
            lines.append(OrderLine(
                line_ids=(product.child_id if type(product.child_id) is str else str(product.child_id),),
                platform_sku=product.sku_code if type(product.sku_code) is str else str(product.sku_code),
                title=product.product_name or "",
                quantity=quantity,
                cancelled_quantity=quantity if cancelled else 0,
                shipped_quantity=shipped,
                unit_price=unit_price,
            ))
        except InvalidModel as exc:
            raise line_error(exc, PRODUCTS, i, LINE_FIELDS) from None
        items += unit_price.amount * quantity
    return tuple(lines), items


def _totals(items: Decimal, paid: Money, checked: bool) -> Totals:
    """The listing only has each line's price and what the buyer paid: the difference is shipping
    and any added tax (kept together in `shipping`), or a discount when the buyer paid less.

    `items` is the sum of the lines' unit price × quantity (`_lines`), `paid` a checked Money. `checked`:
    every unit price was read in the currency of `paid` (the plain path). Of Money's checks on the amounts
    made here, only the ceiling of `items` is then open (units and quantities are 0 or more, and products
    and sums of amounts with the currency's decimals keep them exactly, far inside Decimal's 28 digits
    below the ceiling): it is made here, refused at ITEMS_PATH as before. The gap `paid - items` then lies
    strictly between -MAX_AMOUNT and MAX_AMOUNT with the currency's decimals, so shipping (the gap, when 0
    or more) and discount (minus the gap, when 0 or less) hold every check by construction: all three are
    made with `checked_money`, without Money's `__post_init__`. Otherwise Money makes the checks."""
    currency = paid.currency
    gap = paid.amount - items
    zero = zero_money(currency)
    if checked:
        if not items < MAX_AMOUNT:
            money(items, currency, ITEMS_PATH)  # refuses it with the model's message, at its path
        return Totals(items=checked_money(items, currency),
                      shipping=checked_money(gap, currency) if gap >= 0 else zero, tax=zero,
                      discount=checked_money(-gap, currency) if gap <= 0 else zero, total=paid)
    item_total = money(items, currency, ITEMS_PATH)
    return Totals(items=item_total, shipping=Money(gap, currency) if gap >= 0 else zero, tax=zero,
                  discount=Money(-gap, currency) if gap <= 0 else zero, total=paid)


def _address(doc: wire.Receipt | None) -> Address | None:
    if doc is None:
        return None  # not fetched: unpaid or closed orders, nothing to ship
    country = country_code_from_name(doc.country)
    if country is None:
        raise MappingError("address.country", f"unknown country {doc.country[:30]!r}")
    name, line1 = doc.contact_person or None, doc.address or None
    mobile = doc.mobile_no or doc.phone_number or None
    phone = f"{doc.phone_country or ''}{mobile}" if mobile else None
    try:
        return Address(country=country, name=name, phone=phone, line1=line1, line2=doc.address2 or None,
                       city=doc.city or None, region=doc.province or None, postal_code=doc.zip or None,
                       pii_complete=bool(name and line1))
    except InvalidModel as exc:
        raise MappingError(f"address.{exc.path}", exc.message) from None
