"""SHEIN raw bundle → canonical Order. Pure: no I/O, one typed error naming the field path.

Bundle: {"order": <one order-detail info entry>, "address": <export-address receiveMsgList entry or null>}.
Quirks undone here: one goods row per unit (collapsed per skuCode, every goodsId kept, since tracking
is pushed per goodsId); times are "2025-07-25T17:22:11.000+0800" strings; amounts are SHEIN floats
that the client kept as their decimal text (never a binary float); countries are English names;
the detail carries only country/province/city/postCode, the rest comes from the address export.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.fields import Doc, canonical_order, identify_order, order_doc
from pipeline.countries import country_code_from_name
from pipeline.errors import InvalidModel, MappingError
from pipeline.model import Address, FulfilledBy, Money, Order, OrderLine, OrderStatus, Totals
from pipeline.ports import BundleIdentity, ShopRef

# orderStatus (int in the detail). 1 and 2 are both ours to ship: 2 only says we acknowledged it.
STATUS = {
    1: OrderStatus.READY,  # pending processing
    2: OrderStatus.READY,  # pending shipment (PARTIALLY_SHIPPED when some goods rows have a waybill)
    3: OrderStatus.READY,  # pending SHEIN shipment: SHEIN's to ship, recorded as PLATFORM-fulfilled
    4: OrderStatus.SHIPPED,
    5: OrderStatus.DELIVERED,
    6: OrderStatus.CANCELLED,  # user refunded
    7: OrderStatus.SHIPPED,  # pending collection: handed over, waiting for the buyer to collect
    8: OrderStatus.DELIVERED,  # reported damage: delivered, now a claim, nothing left to ship
    9: OrderStatus.CANCELLED,  # rejected
}
SHEIN_PERFORMANCE = 2  # performanceType of orders SHEIN ships itself [INFERRED]
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"


def identify(bundle: dict[str, Any]) -> BundleIdentity:
    return identify_order(bundle, "orderNo", lambda order: shein_time(order["orderMsgUpdateTime"]))


def map_order(bundle: dict[str, Any], shop: ShopRef) -> Order:
    order = order_doc(bundle)
    external_id = order["orderNo"].text()
    raw_status = order["orderStatus"].integer()
    if raw_status not in STATUS:
        raise MappingError("order.orderStatus", f"unknown status {raw_status}")
    currency = order["orderCurrency"].text()
    by_shein = order["performanceType"].value == SHEIN_PERFORMANCE or raw_status == 3
    lines = _lines(order["orderGoodsInfoList"], currency, _shipped_goods(order), STATUS[raw_status])
    status = STATUS[raw_status]
    if raw_status == 2 and any(line.shipped_quantity for line in lines):
        status = OrderStatus.PARTIALLY_SHIPPED
    return canonical_order(
        shop, external_id,
        platform_status=str(raw_status),
        status=status,
        fulfilled_by=FulfilledBy.PLATFORM if by_shein else FulfilledBy.SELLER,
        placed_at=shein_time(order["orderTime"]),
        updated_at=shein_time(order["orderMsgUpdateTime"]),
        ship_by=shein_time(order["requestDeliveryTime"]) if order["requestDeliveryTime"].present() else None,
        currency=currency,
        lines=tuple(lines),
        ship_to=_address(order["receiveMsg"], Doc(bundle.get("address"), "address")),
        totals=_totals(order, currency),
    )


def shein_time(doc: Doc) -> datetime:
    """"2025-07-25T17:22:11.000+0800" as aware UTC."""
    value = doc.text()
    try:
        return datetime.strptime(value, TIME_FORMAT).astimezone(UTC)
    except ValueError:
        raise MappingError(doc.path, f"not a SHEIN time: {value[:30]!r}") from None


def amount(doc: Doc) -> Decimal:
    """An amount as the client keeps it: the decimal text of SHEIN's JSON number (or a whole number).

    A binary float here means the bundle was decoded without keeping the text; it is refused rather
    than guessed at, since 0.1 + 0.2 style drift would be silent.
    """
    value = doc.value if doc.present() else None
    if isinstance(value, bool) or value is None or isinstance(value, float):
        raise MappingError(doc.path, "missing" if value is None else f"expected a decimal amount, got {value!r}")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError):
        raise MappingError(doc.path, f"not a decimal: {str(value)[:20]!r}") from None
    if not number.is_finite():
        raise MappingError(doc.path, "not a finite decimal")
    return number


def _money(doc: Doc, currency: str) -> Money:
    try:
        return Money(amount(doc), currency)
    except InvalidModel as exc:
        raise MappingError(doc.path, exc.message) from None


def _shipped_goods(order: Doc) -> set[str]:
    """goodsIds that sit in a package with a waybill: those units have left the warehouse."""
    if not order["packageWaybillList"].present():
        return set()
    shipped = set()
    for package in order["packageWaybillList"].items():
        if not package["waybillNo"].text_or(None):
            continue
        for product in package["productInventoryList"].items():
            shipped.add(product["productId"].text())
    return shipped


def _lines(rows: Doc, currency: str, shipped: set[str], status: OrderStatus) -> list[OrderLine]:
    """Collapse unit rows per skuCode: quantity = rows, line_ids = every goodsId, in platform order."""
    groups: OrderedDict[str, list[Doc]] = OrderedDict()
    for row in rows.items():
        row["goodsId"].text()
        groups.setdefault(row["skuCode"].text(), []).append(row)
    lines = []
    for sku_code, units in groups.items():
        first = units[0]
        ids = tuple(u["goodsId"].text() for u in units)
        shipped_units = sum(1 for i in ids if i in shipped)
        lines.append(OrderLine(
            line_ids=ids,
            # The seller's own SKU when SHEIN has one (what the SKU map and warehouses know), else SHEIN's.
            platform_sku=first["sellerSku"].text_or(None) or sku_code,
            seller_sku=first["sellerSku"].text_or(None),
            title=first["goodsTitle"].text_or("") or "",
            quantity=len(units),
            shipped_quantity=shipped_units,
            cancelled_quantity=len(units) - shipped_units if status is OrderStatus.CANCELLED else 0,
            unit_price=_money(first["sellerCurrencyPrice"], currency),
        ))
    return lines


def _totals(order: Doc, currency: str) -> Totals:
    """items + shipping + tax - discounts. totalSaleTax is tax on top (US); VAT is inside the prices."""
    def field(name: str) -> Money:
        return _money(order[name], currency) if order[name].present() else Money.zero(currency)

    items, shipping, tax = field("productTotalPrice"), field("sellerShippingFee"), field("totalSaleTax")
    discount = field("storeDiscountTotalPrice") + field("promotionDiscountTotalPrice")
    total = Money(items.amount + shipping.amount + tax.amount - discount.amount, currency)
    return Totals(items=items, shipping=shipping, tax=tax, discount=discount, total=total)


def _country(doc: Doc) -> str:
    name = doc.text()
    code = country_code_from_name(name)
    if code is None:
        raise MappingError(doc.path, f"unknown country name {name[:40]!r}")
    return code


def _address(summary: Doc, export: Doc) -> Address:
    """The full export when there is one; else the detail's country/region/city/postcode, incomplete."""
    if not export.present():
        return Address(country=_country(summary["country"]), region=summary["province"].text_or(None),
                       city=summary["city"].text_or(None), postal_code=summary["postCode"].text_or(None),
                       pii_complete=False)
    names = (export["firstName"].text_or(None), export["middleName"].text_or(None), export["lastName"].text_or(None))
    name = " ".join(n for n in names if n) or None
    # `street` is often empty and `address` holds the street line; when both are set, street comes first.
    parts = [export[f].text_or(None) for f in ("street", "address", "addressExt")]
    line1, line2, line3 = ([p for p in parts if p] + [None, None, None])[:3]
    return Address(
        country=_country(export["country"]),
        name=name,
        phone=export["phone"].text_or(None),
        email=export["email"].text_or(None),
        line1=line1,
        line2=line2,
        line3=line3,
        city=export["city"].text_or(None),
        region=export["province"].text_or(None),
        district=export["district"].text_or(None),
        postal_code=export["postCode"].text_or(None),
        pii_complete=bool(name and line1),
    )
