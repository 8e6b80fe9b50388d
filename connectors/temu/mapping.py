"""TEMU raw bundle → canonical Order. Pure: no I/O, one typed error naming the field path.

Bundle: {"order": {parentOrderMap, orderList}, "shipping": shippinginfo result | null,
"amount": amount-query result | null}. Quirks undone here: numeric statuses, unix seconds, money
as integer minor units, one child orderSn per SKU (the line), `skuId` on LOCAL malls but
`productList[].productSkuId` on SEMI malls, and the country given by name in `regionName1`.
"""

from __future__ import annotations

from typing import Any

from connectors.fields import Doc, canonical_order, identify_order, order_doc
from pipeline.errors import InvalidModel, MappingError
from pipeline.model import Address, FulfilledBy, Money, Order, OrderLine, OrderStatus, Totals
from pipeline.ports import BundleIdentity, ShopRef

# PENDING orders may still change (address, quantity) and must not be released until UN_SHIPPING.
STATUS = {
    1: OrderStatus.PENDING,
    2: OrderStatus.READY,
    3: OrderStatus.CANCELLED,
    4: OrderStatus.SHIPPED,
    41: OrderStatus.PARTIALLY_SHIPPED,
    5: OrderStatus.DELIVERED,
    51: OrderStatus.DELIVERED,
}
STATUS_NAMES = {1: "PENDING", 2: "UN_SHIPPING", 3: "CANCELED", 4: "SHIPPED", 41: "PARTIALLY_SHIPPED",
                5: "DELIVERED", 51: "PARTIALLY_DELIVERED"}
SHIPPED_CHILD = {4, 5}
# A child in 41/51 has shipped some units, but the list does not say how many: counted as none
# shipped, so the line stays open rather than being under-shipped (the warehouse knows what it sent).
PLATFORM_FULFILLED = "fulfillByCooperativeWarehouse"  # TEMU's partner warehouse ships (fully managed)
COUNTRIES = {"United States": "US", "United Kingdom": "GB", "Germany": "DE", "France": "FR", "Japan": "JP",
             "Mexico": "MX", "Spain": "ES", "Italy": "IT", "Canada": "CA", "Australia": "AU",
             "Netherlands": "NL", "Poland": "PL", "Belgium": "BE", "Austria": "AT", "Ireland": "IE"}


def identify(bundle: dict[str, Any]) -> BundleIdentity:
    return identify_order(_flat(bundle), "parentOrderSn", lambda order: order["updateTime"].epoch_seconds())


def _flat(bundle: Any) -> Any:
    """The parent map as the `order` of a bundle, for the shared identify helper."""
    order = bundle.get("order") if isinstance(bundle, dict) else None
    parent = order.get("parentOrderMap") if isinstance(order, dict) else None
    return {"order": parent} if isinstance(parent, dict) else {}


def map_order(bundle: dict[str, Any], shop: ShopRef) -> Order:
    order = order_doc(bundle)
    parent = order["parentOrderMap"]
    external_id = parent["parentOrderSn"].text()
    raw_status = parent["parentOrderStatus"].integer()
    if raw_status not in STATUS:
        raise MappingError(f"{parent.path}.parentOrderStatus", f"unknown status {raw_status!r}")
    amount = Doc(bundle.get("amount"), "amount")
    parent_amount = amount["parentOrderAmount"]
    currency = parent_amount["customerPaid"]["currency"].text()
    children = order["orderList"].items()
    return canonical_order(
        shop, external_id,
        platform_status=STATUS_NAMES[raw_status],
        status=STATUS[raw_status],
        fulfilled_by=_fulfilled_by(children),
        placed_at=parent["parentOrderTime"].epoch_seconds(),
        updated_at=parent["updateTime"].epoch_seconds(),
        ship_by=parent["expectShipLatestTime"].epoch_seconds() if parent["expectShipLatestTime"].present() else None,
        currency=currency,
        lines=tuple(_line(child, _child_amounts(amount), currency) for child in children),
        ship_to=_address(Doc(bundle.get("shipping"), "shipping")),
        totals=_totals(parent_amount, currency),
    )


def _fulfilled_by(children: list[Doc]) -> FulfilledBy:
    kinds = {child["fulfillmentType"].text_or("") for child in children}
    return FulfilledBy.PLATFORM if kinds == {PLATFORM_FULFILLED} else FulfilledBy.SELLER


def _money(doc: Doc, currency: str) -> Money:
    """TEMU Money `{currency, amount}`: amount is an integer of minor units (USD 1999 → 19.99, JPY 1980 → 1980)."""
    if doc["currency"].text() != currency:
        raise MappingError(f"{doc.path}.currency", f"differs from the order currency {currency}")
    try:
        return Money.from_minor(doc["amount"].integer(), currency)
    except InvalidModel as exc:
        raise MappingError(f"{doc.path}.amount", exc.message) from None


def _child_amounts(amount: Doc) -> dict[str, Doc]:
    return {row["orderSn"].text(): row for row in amount["orderAmountList"].items()}


def _platform_sku(child: Doc) -> str:
    """LOCAL malls carry `skuId` on the child; SEMI malls only `productList[0].productSkuId`.

    The bundle itself says which: the field that is present (a mall never sends both)."""
    if child["skuId"].present():
        return child["skuId"].text()
    products = child["productList"]
    if products.present() and products.items():
        return products[0]["productSkuId"].text()
    raise MappingError(f"{child.path}.skuId", "missing (and no productList[0].productSkuId either)")


def _line(child: Doc, amounts: dict[str, Doc], currency: str) -> OrderLine:
    sn = child["orderSn"].text()
    child["goodsId"].text()  # needed to confirm shipment: a child without it cannot be fulfilled
    original = child["originalOrderQuantity"].integer()
    cancelled = child["canceledQuantityBeforeShipment"].integer() if child["canceledQuantityBeforeShipment"].present() else 0
    open_quantity = child["quantity"].integer()
    if open_quantity != original - cancelled:
        raise MappingError(f"{child.path}.quantity", "is not originalOrderQuantity - canceledQuantityBeforeShipment")
    status = child["orderStatus"].integer()
    products = child["productList"]
    seller_sku = products[0]["extCode"].text_or(None) if products.present() and products.value else None
    price = amounts.get(sn)
    return OrderLine(
        line_ids=(sn,),
        platform_sku=_platform_sku(child),
        seller_sku=seller_sku,
        title=child["goodsName"].text_or("") or "",
        quantity=original,
        cancelled_quantity=cancelled,
        shipped_quantity=open_quantity if status in SHIPPED_CHILD else 0,
        unit_price=_money(price["unitBasePrice"], currency) if price is not None else None,
    )


def _totals(parent: Doc, currency: str) -> Totals:
    def field(name: str) -> Money:
        return _money(parent[name], currency) if parent[name].present() else Money.zero(currency)

    return Totals(items=field("basePriceTotal"), shipping=field("shippingAmountTotal"), tax=field("taxTotal"),
                  discount=field("discountFromSeller") + field("discountFromTEMU"),
                  total=_money(parent["customerPaid"], currency))


def _address(doc: Doc) -> Address | None:
    if not doc.present():
        return None  # not fetched while PENDING: TEMU says not to act on a pending address
    country_name = doc["regionName1"].text()
    country = COUNTRIES.get(country_name)
    if country is None:
        raise MappingError(f"{doc.path}.regionName1", f"unknown country name {country_name!r}")
    name = doc["receiptName"].text_or(None)
    phone = doc["mobile"].text_or(None)
    line1 = doc["addressLine1"].text_or(None)
    masked = phone is not None and "*" in phone
    try:
        return Address(
            country=country,
            name=name,
            phone=None if masked else phone,
            email=doc["mail"].text_or(None),
            line1=line1,
            line2=doc["addressLine2"].text_or(None),
            line3=doc["addressLine3"].text_or(None),
            region=doc["regionName2"].text_or(None),
            city=doc["regionName3"].text_or(None),
            district=doc["regionName4"].text_or(None),
            postal_code=doc["postCode"].text_or(None),
            pii_complete=not masked and bool(name and line1 and phone),
        )
    except InvalidModel as exc:
        raise MappingError(f"{doc.path}.{exc.path}", exc.message) from None
