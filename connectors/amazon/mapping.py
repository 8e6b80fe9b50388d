"""Amazon SP-API raw bundle → canonical Order. Pure: no I/O, one typed error naming the field path.

Bundle: {"order": <Orders v0 Order>, "items": [<OrderItem>...], "address": <Address or null>}.
Quirks undone here: AFN orders are Amazon's to ship; `ItemPrice` is a line total, not a unit price;
`Amount` is a decimal string; `IsGift` is a string; cancelled items report QuantityOrdered 0; without
a Restricted Data Token the address holds only city, region, postcode and country.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from connectors.fields import Doc, canonical_order, identify_order, order_doc
from pipeline.errors import InvalidModel, MappingError
from pipeline.model import Address, FulfilledBy, Money, Order, OrderLine, OrderStatus, Totals
from pipeline.ports import BundleIdentity, ShopRef

STATUS = {
    "PendingAvailability": OrderStatus.PENDING,
    "Pending": OrderStatus.PENDING,
    "Unshipped": OrderStatus.READY,
    "PartiallyShipped": OrderStatus.PARTIALLY_SHIPPED,
    "Shipped": OrderStatus.SHIPPED,
    "InvoiceUnconfirmed": OrderStatus.SHIPPED,
    "Canceled": OrderStatus.CANCELLED,
    "Unfulfillable": OrderStatus.CANCELLED,
}

# The currency an order is priced in before Amazon shows any price (Pending orders).
MARKETPLACE_CURRENCY = {
    "ATVPDKIKX0DER": "USD", "A2EUQ1WTGCTBG2": "CAD", "A1AM78C64UM0Y8": "MXN", "A2Q3Y263D00KWC": "BRL",
    "A1F83G8C2ARO7P": "GBP", "A1PA6795UKMFR9": "EUR", "A13V1IB3VIYZZH": "EUR", "APJ6JRA9NG5V4": "EUR",
    "A1RKKUPIHCS9HS": "EUR", "A1805IZSGTT6HS": "EUR", "A1C3SOZRARQ6R3": "PLN", "A2NODRKZP88ZB9": "SEK",
    "A1VC38T7YXB528": "JPY", "A39IBJ37TRP1C6": "AUD", "A19VAU5U5O7RUS": "SGD", "A21TJRUUN4KGV": "INR",
}


def identify(bundle: dict[str, Any]) -> BundleIdentity:
    return identify_order(bundle, "AmazonOrderId", lambda order: order["LastUpdateDate"].iso_time())


def map_order(bundle: dict[str, Any], shop: ShopRef) -> Order:
    order = order_doc(bundle)
    external_id = order["AmazonOrderId"].text()
    raw_status = order["OrderStatus"].text()
    if raw_status not in STATUS:
        raise MappingError("order.OrderStatus", f"unknown status {raw_status!r}")
    status = STATUS[raw_status]
    currency = _currency(order, Doc(bundle.get("items"), "items"))
    lines = tuple(_lines(Doc(bundle.get("items"), "items"), currency, status))
    return canonical_order(
        shop, external_id,
        platform_status=raw_status,
        status=status,
        fulfilled_by=FulfilledBy.PLATFORM if order["FulfillmentChannel"].text_or("MFN") == "AFN"
        else FulfilledBy.SELLER,
        placed_at=order["PurchaseDate"].iso_time(),
        updated_at=order["LastUpdateDate"].iso_time(),
        ship_by=_optional_time(order["LatestShipDate"]),
        currency=currency,
        lines=lines,
        ship_to=_address(order, Doc(bundle.get("address"), "address")),
        totals=_totals(order, Doc(bundle.get("items"), "items"), currency, status),
    )


def _optional_time(doc: Doc) -> datetime | None:
    return doc.iso_time() if doc.present() else None


def _money(doc: Doc, currency: str) -> Money:
    code = doc["CurrencyCode"].text()
    if code != currency:
        raise MappingError(f"{doc.path}.CurrencyCode", f"{code} differs from the order currency {currency}")
    try:
        return Money(doc["Amount"].decimal_string(), code)
    except InvalidModel as exc:
        raise MappingError(f"{doc.path}.Amount", exc.message) from None


def _currency(order: Doc, items: Doc) -> str:
    if order["OrderTotal"].present():
        return order["OrderTotal"]["CurrencyCode"].text()
    for item in items.items() if items.present() else []:
        if item["ItemPrice"].present():
            return item["ItemPrice"]["CurrencyCode"].text()
    marketplace = order["MarketplaceId"].text_or("")
    if marketplace in MARKETPLACE_CURRENCY:
        return MARKETPLACE_CURRENCY[marketplace]
    raise MappingError("order.OrderTotal", "no price and no known marketplace to tell the currency")


def _lines(items: Doc, currency: str, status: OrderStatus) -> list[OrderLine]:
    lines = []
    for item in items.items():
        ordered = item["QuantityOrdered"].integer()
        shipped = item["QuantityShipped"].integer() if item["QuantityShipped"].present() else 0
        if ordered == 0:
            continue  # Amazon zeroes the quantity of a cancelled item: nothing left to ship or track
        unit_price = None
        if item["ItemPrice"].present():
            line_total = _money(item["ItemPrice"], currency)
            unit = line_total.amount / ordered
            if unit * ordered != line_total.amount:
                raise MappingError(f"{item.path}.ItemPrice.Amount", f"line total does not divide by quantity {ordered}")
            unit_price = Money(unit, currency)
        lines.append(OrderLine(
            line_ids=(item["OrderItemId"].text(),),
            platform_sku=item["SellerSKU"].text_or(None) or item["ASIN"].text(),
            title=item["Title"].text_or("") or "",
            quantity=ordered,
            shipped_quantity=min(shipped, ordered),
            cancelled_quantity=ordered - min(shipped, ordered) if status is OrderStatus.CANCELLED else 0,
            unit_price=unit_price,
        ))
    return lines


def _sum(items: Doc, field: str, currency: str) -> Money | None:
    total = Money.zero(currency)
    for item in items.items():
        if not item[field].present():
            return None
        total = total + _money(item[field], currency)
    return total


def _totals(order: Doc, items: Doc, currency: str, status: OrderStatus) -> Totals | None:
    if status is OrderStatus.PENDING or not items.present():
        return None  # Amazon withholds pricing while an order is Pending
    item_total = _sum(items, "ItemPrice", currency)
    if item_total is None:
        return None
    zero = Money.zero(currency)

    def total_of(*fields: str) -> Money:
        result = zero
        for field in fields:
            present = [i for i in items.items() if i[field].present()]
            for item in present:
                result = result + _money(item[field], currency)
        return result

    shipping = total_of("ShippingPrice")
    tax = total_of("ItemTax", "ShippingTax")
    discount = total_of("PromotionDiscount", "ShippingDiscount")
    total = (_money(order["OrderTotal"], currency) if order["OrderTotal"].present()
             else Money(item_total.amount + shipping.amount - discount.amount, currency))
    return Totals(items=item_total, shipping=shipping, tax=tax, discount=discount, total=total)


def _address(order: Doc, full: Doc) -> Address | None:
    """The RDT-fetched address when there is one, else the restricted one inside the order."""
    source = full["ShippingAddress"] if full.present() and isinstance(full.value, dict) and "ShippingAddress" in full.value \
        else full if full.present() else order["ShippingAddress"]
    if not source.present():
        return None
    country = source["CountryCode"].text_or(None)
    if country is None:
        return None
    name = source["Name"].text_or(None)
    line1 = source["AddressLine1"].text_or(None)
    try:
        return Address(
            country=country,
            name=name,
            company=source["CompanyName"].text_or(None),
            phone=source["Phone"].text_or(None),
            email=Doc(order.value.get("BuyerInfo") or {}, "order.BuyerInfo")["BuyerEmail"].text_or(None),
            line1=line1,
            line2=source["AddressLine2"].text_or(None),
            line3=source["AddressLine3"].text_or(None),
            city=source["City"].text_or(None),
            region=source["StateOrRegion"].text_or(None),
            district=source["District"].text_or(None) or source["County"].text_or(None),
            postal_code=source["PostalCode"].text_or(None),
            pii_complete=bool(name and line1),
        )
    except InvalidModel as exc:
        raise MappingError(f"{source.path}.{'CountryCode' if exc.path == 'country' else exc.path}", exc.message) from None

