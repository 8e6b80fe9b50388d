"""TikTok Shop raw bundle → canonical Order. Pure: no I/O, one typed error naming the field path.

Bundle: {"order": <order object as returned by order search (202309) or order detail (202507)>}; both
versions send the same order object outside Brazil (docs/platforms/tiktok.md), so one mapping reads both.
Quirks undone here: one line item per unit (collapsed per SKU, every unit id kept, since tracking
is pushed per id); times are unix seconds; amounts are decimal strings in `payment.currency`;
FULFILLMENT_BY_TIKTOK orders are TikTok's to ship; names and phones arrive masked ("J*** D***").
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import orjson

from connectors.fields import canonical_order, decode_bundle, identify_order
from connectors.tiktok import wire
from connectors.values import (
    check_epochs,
    currency_of,
    line_error,
    money_of,
    money_sum,
    plain_money,
    zero_money,
)
from pipeline.errors import InvalidModel, MappingError
from pipeline.model import (
    MINOR_STEP,
    Address,
    FulfilledBy,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    Totals,
)
from pipeline.ports import BundleIdentity, ShopRef

STATUS = {
    "UNPAID": OrderStatus.PENDING,
    "ON_HOLD": OrderStatus.PENDING,
    "AWAITING_SHIPMENT": OrderStatus.READY,
    "PARTIALLY_SHIPPING": OrderStatus.PARTIALLY_SHIPPED,
    "AWAITING_COLLECTION": OrderStatus.SHIPPED,
    "IN_TRANSIT": OrderStatus.SHIPPED,
    "DELIVERED": OrderStatus.DELIVERED,
    "COMPLETED": OrderStatus.DELIVERED,
    "CANCELLED": OrderStatus.CANCELLED,
}
SHIPPED_UNIT = {"FULFILLING", "COMPLETED"}  # package_status of a unit that has left the warehouse
# Where each OrderLine field comes from in a unit row, for the path of a value the model refuses.
LINE_FIELDS = {"line_ids": "id", "platform_sku": "seller_sku", "quantity": "sku_id"}


_DECODER = msgspec.json.Decoder(wire.Bundle)
_from_timestamp = datetime.fromtimestamp


def identify(bundle: dict[str, Any]) -> BundleIdentity:
    return identify_order(bundle, "id", lambda order: order["update_time"].epoch_seconds())


def map_order(bundle: dict[str, Any], shop: ShopRef) -> Order:
    """A bundle as a dict (tests, the CLI): mapped exactly as the stored bytes are."""
    return map_raw(orjson.dumps(bundle, option=orjson.OPT_SORT_KEYS), shop)


def map_raw(raw: bytes, shop: ShopRef) -> Order:
    """The pipeline's path: the bundle bytes the store keeps → Order. One flat function on purpose (with
    `_lines` and `_address`): each call, closure and f-string is per order here (bench/normalize.py)."""
    order = decode_bundle(_DECODER, raw).order
    status = STATUS.get(order.status)
    if status is None:
        raise MappingError("order.status", f"unknown status {order.status!r}")
    payment = order.payment
    currency = payment.currency
    if currency not in MINOR_STEP:
        currency_of(currency, "order.payment.currency")  # raises at the field
    create, update, sla = order.create_time, order.update_time, order.rts_sla_time
    check_epochs(create, update, sla, ("order.create_time", "order.update_time", "order.rts_sla_time"))
    groups = _groups(order.line_items)
    seller_off, platform_off = payment.seller_discount, payment.platform_discount
    texts = [payment.sub_total, payment.shipping_fee, payment.tax, payment.total_amount]
    if seller_off is not None and platform_off is not None:  # both discounts there: read with the rest
        texts += (seller_off, platform_off)
    first = len(texts)  # where the unit prices start
    for rows in groups.values():
        texts.append(rows[0].sale_price)
    amounts = plain_money(texts, currency)
    # every amount plain decimal text (then Money's checks were made on all at once), else read one by one
    lines = _lines(order.line_items, groups, None if amounts is None else amounts[first:], currency)
    ship_to = _address(order.recipient_address)
    if amounts is None:
        totals = _totals(payment, currency)
    else:
        sub_total, shipping_fee, tax, total = amounts[:4]
        if first == 4:  # a discount absent: read as before (absent is zero)
            discount = _discount(payment, currency)
        else:  # `_discount` of the two amounts plain_money checked
            discount = money_sum(amounts[4], amounts[5], currency, "order.payment.{seller_discount,platform_discount}")
        totals = Totals(items=sub_total, shipping=shipping_fee, tax=tax, discount=discount, total=total)
    return canonical_order(
        shop, order.id,
        platform_status=order.status,
        status=status,
        fulfilled_by=FulfilledBy.PLATFORM if order.fulfillment_type == "FULFILLMENT_BY_TIKTOK"
        else FulfilledBy.SELLER,
        placed_at=_from_timestamp(create, UTC),
        updated_at=_from_timestamp(update, UTC),
        ship_by=None if sla is None else _from_timestamp(sla, UTC),
        currency=currency,
        lines=lines,
        ship_to=ship_to,
        totals=totals,
    )


def _groups(items: list[wire.LineItem]) -> dict[str, list[wire.LineItem]]:
    """Unit rows by SKU, in platform order."""
    groups: dict[str, list[wire.LineItem]] = {}
    for item in items:
        sku = item.sku_id if type(item.sku_id) is str else str(item.sku_id)
        rows = groups.get(sku)
        if rows is None:
            groups[sku] = [item]
        else:
            rows.append(item)
    return groups


def _lines(items: list[wire.LineItem], groups: dict[str, list[wire.LineItem]], prices: list[Money | None] | None,
           currency: str) -> tuple[OrderLine, ...]:
    """Collapse unit rows per SKU: quantity = rows, line_ids = every row id, in platform order. `prices`:
    each group's unit price, read already (plain_money), or None to read each here."""
    lines = []
    for n, (sku_id, rows) in enumerate(groups.items()):
        first = rows[0]
        cancelled = shipped = 0
        for row in rows:
            package = row.package_status
            if package == "CANCELLED" or row.display_status == "CANCELLED":
                cancelled += 1
            if package in SHIPPED_UNIT:
                shipped += 1
        try:
            if prices is not None:
                price = prices[n]
            else:
                price = None if first.sale_price is None else money_of(first.sale_price, currency, "sale_price")
            lines.append(OrderLine(
                line_ids=(first.id,) if len(rows) == 1 and type(first.id) is str
                else tuple([r.id if type(r.id) is str else str(r.id) for r in rows]),
                platform_sku=first.seller_sku or sku_id,
                title=first.product_name or "",
                quantity=len(rows),
                cancelled_quantity=cancelled,
                shipped_quantity=shipped,
                unit_price=price,
            ))
        except (InvalidModel, MappingError) as exc:
            index = next(i for i, item in enumerate(items) if item is first)  # only when refused: its index
            if isinstance(exc, MappingError):
                raise exc.at(f"order.line_items[{index}]") from None
            raise line_error(exc, "order.line_items", index, LINE_FIELDS) from None
    return tuple(lines)


def _discount(payment: wire.Payment, currency: str) -> Money:
    """seller_discount + platform_discount, each read (and checked) on its own first."""
    zero = zero_money(currency)
    seller_discount, platform_discount = payment.seller_discount, payment.platform_discount
    seller_off = zero if seller_discount is None else money_of(seller_discount, currency, "order.payment.seller_discount")
    platform_off = zero if platform_discount is None else \
        money_of(platform_discount, currency, "order.payment.platform_discount")
    return money_sum(seller_off, platform_off, currency, "order.payment.{seller_discount,platform_discount}")


def _totals(payment: wire.Payment, currency: str) -> Totals:
    """The totals read field by field (an amount that is not plain decimal text, or absent): each refusal
    names its field."""
    zero = zero_money(currency)
    sub_total, shipping_fee, tax = payment.sub_total, payment.shipping_fee, payment.tax
    discount = _discount(payment, currency)
    return Totals(
        items=zero if sub_total is None else money_of(sub_total, currency, "order.payment.sub_total"),
        shipping=zero if shipping_fee is None else money_of(shipping_fee, currency, "order.payment.shipping_fee"),
        tax=zero if tax is None else money_of(tax, currency, "order.payment.tax"),
        discount=discount,
        total=money_of(payment.total_amount, currency, "order.payment.total_amount"))


def _address(doc: wire.RecipientAddress | None) -> Address | None:
    """A desensitised field (any `*`: TikTok masks name, phone, street lines, postcode and L3/L4 in the
    US by status) is withheld, never copied: without a name or street the order is held and fetched
    again until TikTok shows them."""
    if doc is None:
        return None  # outside the US TikTok shows no recipient while an order is UNPAID or ON_HOLD
    l1 = l2 = l3 = l4 = None
    if doc.district_info:
        for district in doc.district_info:  # the last of a level wins, as a dict of them would keep
            level = district.address_level
            if level == "L1":
                l1 = district.address_name
            elif level == "L2":
                l2 = district.address_name
            elif level == "L3":
                l3 = district.address_name
            elif level == "L4":
                l4 = district.address_name
    fields = (doc.name or None, doc.phone_number or None, doc.address_line1 or None, doc.address_line2 or None,
              doc.address_line3 or None, doc.post_town or l3 or l2 or None, l1 or None, l4 or None,
              doc.postal_code or None)
    masked = "*" in "\n".join(filter(None, fields))  # one scan of every field (any `*` masks the field it is in)
    if masked:
        fields = tuple(None if value and "*" in value else value for value in fields)
    name, phone, line1, line2, line3, city, region, district, postal_code = fields
    try:
        return Address(
            country=doc.region_code,
            name=name,
            phone=phone,
            line1=line1,
            line2=line2,
            line3=line3,
            city=city,
            region=region,
            district=district,
            postal_code=postal_code,
            pii_complete=not masked and bool(name and line1),
        )
    except InvalidModel as exc:
        path = "order.recipient_address"
        raise MappingError(f"{path}.region_code" if exc.path == "country" else f"{path}.{exc.path}",
                           exc.message) from None
