"""TEMU raw bundle → canonical Order. Pure: no I/O, one typed error naming the field path.

Bundle: {"order": {parentOrderMap, orderList}, "shipping": shippinginfo or decryptshippinginfo result | null,
"amount": amount-query result {parentOrderMap, orderList, warning} | null}. Quirks undone here:
numeric statuses, unix seconds, money as integer minor units, one child orderSn per SKU (the line),
`skuId` on LOCAL malls but `productList[].productSkuId` on SEMI malls, and the country given by name
in `regionName1`. A null amount (TEMU still calculating it) maps to no prices at all, never to zero.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import orjson

from connectors.fields import canonical_order, decode_bundle, identify_order
from connectors.temu import wire
from connectors.values import (
    check_epochs,
    currency_of,
    line_error,
    minor_money,
    money_sum,
    quantity_of,
    zero_money,
)
from pipeline.errors import InvalidModel, MappingError
from pipeline.model import (
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
MASK = "*"  # how a masked ship-to field shows (e.g. a phone "***-***-0142")
# Where each OrderLine field comes from in a child order, for the path of a value the model refuses.
LINE_FIELDS = {"line_ids": "orderSn", "quantity": "originalOrderQuantity",
               "cancelled_quantity": "canceledQuantityBeforeShipment", "shipped_quantity": "quantity"}
COUNTRIES = {"United States": "US", "United Kingdom": "GB", "Germany": "DE", "France": "FR", "Japan": "JP",
             "Mexico": "MX", "Spain": "ES", "Italy": "IT", "Canada": "CA", "Australia": "AU",
             "Netherlands": "NL", "Poland": "PL", "Belgium": "BE", "Austria": "AT", "Ireland": "IE"}
# Only for an order whose amounts are not calculated yet: the currency it will be priced in, from where
# it ships. regionId 211 is the USA (TEMU's order list doc); other region ids are not published.
REGION_COUNTRY = {211: "US"}
COUNTRY_CURRENCY = {"US": "USD", "GB": "GBP", "JP": "JPY", "MX": "MXN", "CA": "CAD", "AU": "AUD", "PL": "PLN",
                    **dict.fromkeys(("DE", "FR", "ES", "IT", "NL", "BE", "AT", "IE"), "EUR")}


_DECODER = msgspec.json.Decoder(wire.Bundle)
_from_timestamp = datetime.fromtimestamp


def identify(bundle: dict[str, Any]) -> BundleIdentity:
    return identify_order(_flat(bundle), "parentOrderSn", lambda order: order["updateTime"].epoch_seconds())


def _flat(bundle: Any) -> Any:
    """The parent map as the `order` of a bundle, for the shared identify helper."""
    order = bundle.get("order") if isinstance(bundle, dict) else None
    parent = order.get("parentOrderMap") if isinstance(order, dict) else None
    return {"order": parent} if isinstance(parent, dict) else {}


def map_order(bundle: dict[str, Any], shop: ShopRef) -> Order:
    """A bundle as a dict (tests, the CLI): mapped exactly as the stored bytes are."""
    return map_raw(orjson.dumps(bundle, option=orjson.OPT_SORT_KEYS), shop)


def map_raw(raw: bytes, shop: ShopRef) -> Order:
    """The pipeline's path: the bundle bytes the store keeps → Order. Flat on purpose: each call, closure
    and f-string here is paid per order (bench/normalize.py)."""
    bundle = decode_bundle(_DECODER, raw)
    parent, children = bundle.order.parentOrderMap, bundle.order.orderList
    raw_status = parent.parentOrderStatus
    status = STATUS.get(raw_status)
    if status is None:
        raise MappingError("order.parentOrderMap.parentOrderStatus", f"unknown status {raw_status!r}")
    amount = bundle.amount
    if amount:
        currency = currency_of(amount.parentOrderMap.customerPaid.currency, "amount.parentOrderMap.customerPaid.currency")
    else:
        currency = _unpriced_currency(parent, bundle.shipping)
    placed, updated, ship_by = parent.parentOrderTime, parent.updateTime, parent.expectShipLatestTime
    check_epochs(placed, updated, ship_by, ("order.parentOrderMap.parentOrderTime", "order.parentOrderMap.updateTime",
                                            "order.parentOrderMap.expectShipLatestTime"))
    rows = _amount_rows(amount) if amount else {}
    lines = tuple([_line(i, child, rows, currency) for i, child in enumerate(children)])
    ship_to = _address(bundle.shipping)
    totals = _totals(amount.parentOrderMap, currency) if amount else None
    return canonical_order(
        shop, parent.parentOrderSn,
        platform_status=STATUS_NAMES[raw_status],
        status=status,
        fulfilled_by=_fulfilled_by(children),
        placed_at=_from_timestamp(placed, UTC),
        updated_at=_from_timestamp(updated, UTC),
        ship_by=None if ship_by is None else _from_timestamp(ship_by, UTC),
        currency=currency,
        lines=lines,
        ship_to=ship_to,
        totals=totals,
    )


def _fulfilled_by(children: list[wire.Child]) -> FulfilledBy:
    kinds = {child.fulfillmentType or "" for child in children}
    return FulfilledBy.PLATFORM if kinds == {PLATFORM_FULFILLED} else FulfilledBy.SELLER


def _money(value: wire.Money, currency: str, path: str) -> Money:
    """TEMU Money `{currency, amount}`: amount is an integer of minor units (USD 1999 → 19.99, JPY 1980 → 1980)."""
    if value.currency != currency:
        raise MappingError(f"{path}.currency", f"differs from the order currency {currency}")
    try:
        return minor_money(value.amount, currency, "amount")
    except MappingError as exc:
        raise exc.at(path) from None  # the path is made only for a refusal: this runs for every amount


def _unpriced_currency(parent: wire.Parent, shipping: wire.Shipping | None) -> str:
    """The currency of an order TEMU has not priced yet (140020008): the ship-to country's, else the region's."""
    country = COUNTRIES.get(shipping.regionName1) if shipping is not None else None
    country = country or REGION_COUNTRY.get(parent.regionId or 0)
    if country is None or country not in COUNTRY_CURRENCY:
        raise MappingError("amount", "null (still being calculated) and no known country to tell the currency")
    return COUNTRY_CURRENCY[country]


def _amount_rows(amount: wire.Amount) -> dict[str, tuple[int, wire.ChildAmount]]:
    """Each child's row of the amount document (with its index, for error paths), by its orderSn."""
    return {str(row.orderSn): (i, row) for i, row in enumerate(amount.orderList)}


def _unit_price(rows: dict[str, tuple[int, wire.ChildAmount]], sn: str, currency: str) -> Money | None:
    if sn not in rows:
        return None
    i, row = rows[sn]
    if row.unitBasePrice is None:
        raise MappingError(f"amount.orderList[{i}].unitBasePrice", "missing")
    try:
        return _money(row.unitBasePrice, currency, "unitBasePrice")
    except MappingError as exc:
        raise exc.at(f"amount.orderList[{i}]") from None


def _platform_sku(i: int, child: wire.Child) -> str:
    """LOCAL malls carry `skuId` on the child; SEMI malls only `productList[0].productSkuId`.

    The bundle itself says which: the field that is present (a mall never sends both)."""
    if child.skuId is not None:
        return str(child.skuId)
    if child.productList:
        if child.productList[0].productSkuId is None:
            raise MappingError(f"order.orderList[{i}].productList[0].productSkuId", "missing")
        return str(child.productList[0].productSkuId)
    raise MappingError(f"order.orderList[{i}].skuId", "missing (and no productList[0].productSkuId either)")


def _line(i: int, child: wire.Child, rows: dict[str, tuple[int, wire.ChildAmount]], currency: str) -> OrderLine:
    """A child with originalOrderQuantity 0 is held, not dropped: TEMU keeps a cancelled child's original
    quantity (and counts it in canceledQuantityBeforeShipment), so 0 units ordered is not a known shape."""
    original = child.originalOrderQuantity
    if not 0 < original <= MAX_QUANTITY:  # (the wire Struct made it an int)
        quantity_of(original, "order.orderList", i, "originalOrderQuantity")
    cancelled = child.canceledQuantityBeforeShipment or 0
    if child.quantity != original - cancelled:
        raise MappingError(f"order.orderList[{i}].quantity",
                           "is not originalOrderQuantity - canceledQuantityBeforeShipment")
    sn = child.orderSn if type(child.orderSn) is str else str(child.orderSn)
    unit_price = _unit_price(rows, sn, currency)
    try:
        return OrderLine(
            line_ids=(sn,),
            platform_sku=_platform_sku(i, child),
            seller_sku=child.productList[0].extCode or None if child.productList else None,
            title=child.goodsName or "",
            quantity=original,
            cancelled_quantity=cancelled,
            shipped_quantity=child.quantity if child.orderStatus in SHIPPED_CHILD else 0,
            unit_price=unit_price,
        )
    except InvalidModel as exc:
        raise line_error(exc, "order.orderList", i, LINE_FIELDS) from None


def _totals(parent: wire.ParentAmount, currency: str) -> Totals:
    zero = zero_money(currency)
    base, shipping, tax = parent.basePriceTotal, parent.shippingAmountTotal, parent.taxTotal
    by_seller, by_temu = parent.discountFromSeller, parent.discountFromTEMU
    seller_off = zero if by_seller is None else _money(by_seller, currency, "amount.parentOrderMap.discountFromSeller")
    temu_off = zero if by_temu is None else _money(by_temu, currency, "amount.parentOrderMap.discountFromTEMU")
    discount = money_sum(seller_off, temu_off, currency, "amount.parentOrderMap.{discountFromSeller,discountFromTEMU}")
    return Totals(
        items=zero if base is None else _money(base, currency, "amount.parentOrderMap.basePriceTotal"),
        shipping=zero if shipping is None else _money(shipping, currency, "amount.parentOrderMap.shippingAmountTotal"),
        tax=zero if tax is None else _money(tax, currency, "amount.parentOrderMap.taxTotal"),
        discount=discount,
        total=_money(parent.customerPaid, currency, "amount.parentOrderMap.customerPaid"))


def _address(doc: wire.Shipping | None) -> Address | None:
    """shippinginfo (masked for apps without the decrypt API) or decryptshippinginfo (in the clear): one shape.

    A field TEMU masked (asterisks; the exact pattern is not published) is withheld, not copied: a masked
    phone leaves name and street in place and the order ships without a phone, while a masked name or
    street line 1 leaves the address without one, which the pipeline holds as ADDRESS_INCOMPLETE. Any
    masked field makes the address not pii_complete."""
    if doc is None:
        return None  # not fetched while PENDING: TEMU says not to act on a pending address
    country = COUNTRIES.get(doc.regionName1)
    if country is None:
        raise MappingError("shipping.regionName1", f"unknown country name {doc.regionName1!r}")
    # A field is masked when it holds a `*`: one scan of every field, then each is withheld (None) on its own.
    fields = (doc.receiptName or None, doc.mobile or None, doc.mail or None, doc.addressLine1 or None,
              doc.addressLine2 or None, doc.addressLine3 or None, doc.regionName2 or None, doc.regionName3 or None,
              doc.regionName4 or None, doc.postCode or None)
    masked = MASK in "\n".join(filter(None, fields))
    if masked:
        fields = tuple(None if value is not None and MASK in value else value for value in fields)
    name, phone, mail, line1, line2, line3, region, city, district, postal_code = fields
    try:
        return Address(
            country=country,
            name=name,
            phone=phone,
            email=mail,
            line1=line1,
            line2=line2,
            line3=line3,
            region=region,
            city=city,
            district=district,
            postal_code=postal_code,
            pii_complete=not masked and bool(name and line1 and phone),
        )
    except InvalidModel as exc:
        raise MappingError(f"shipping.{exc.path}", exc.message) from None
