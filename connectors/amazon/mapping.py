"""Amazon SP-API raw bundle → canonical Order. Pure: no I/O, one typed error naming the field path.

Bundle: {"order": <Orders v0 Order>, "items": [<OrderItem>...], "address": <Address or null>}.
Quirks undone here: AFN orders are Amazon's to ship; `ItemPrice` is a line total, not a unit price;
`Amount` is a decimal string; `IsGift` is a string; cancelled items report QuantityOrdered 0 (such an
item becomes no line, and the order carries a note saying so); without a Restricted Data Token the
address holds only city, region, postcode and country.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any

import msgspec
import orjson

from connectors.amazon import wire
from connectors.amazon.totals import amount_in, plain_totals, read_totals
from connectors.fields import canonical_order, decode_bundle, identify_order
from connectors.values import (
    as_utc,
    checked_money,
    currency_of,
    line_error,
    plain_amounts,
    quantity_of,
)
from pipeline.errors import InvalidModel, MappingError
from pipeline.model import (
    EARLIEST,
    LATEST,
    MAX_QUANTITY,
    Address,
    FulfilledBy,
    Money,
    Order,
    OrderLine,
    OrderStatus,
)
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


_DECODER = msgspec.json.Decoder(wire.Bundle)
_CANCELLED = OrderStatus.CANCELLED
_FIRST_YEAR, _END_YEAR = EARLIEST.year, LATEST.year  # both bounds are 1 January, 00:00 UTC (pipeline/model.py)
# Where each OrderLine field comes from in an item, for the path of a value the model refuses.
LINE_FIELDS = {"quantity": "QuantityOrdered", "cancelled_quantity": "QuantityOrdered",
               "shipped_quantity": "QuantityShipped", "line_ids": "OrderItemId", "platform_sku": "SellerSKU"}


def identify(bundle: dict[str, Any]) -> BundleIdentity:
    return identify_order(bundle, "AmazonOrderId", lambda order: order["LastUpdateDate"].iso_time())


def map_order(bundle: dict[str, Any], shop: ShopRef) -> Order:
    """A bundle as a dict (tests, the CLI): mapped exactly as the stored bytes are."""
    return map_raw(orjson.dumps(bundle, option=orjson.OPT_SORT_KEYS), shop)


def map_raw(raw: bytes, shop: ShopRef) -> Order:
    """The pipeline's path: the bundle bytes the store keeps → Order. Flat on purpose: each call, closure
    and f-string here is paid per order (bench/normalize.py)."""
    bundle = decode_bundle(_DECODER, raw)
    order, items = bundle.order, bundle.items
    status = STATUS.get(order.OrderStatus)
    if status is None:
        raise MappingError("order.OrderStatus", f"unknown status {order.OrderStatus!r}")
    currency = _currency(order, items)
    plain = _plain_amounts(order, items, currency)
    prices = _line_totals(items, currency) if plain is None else plain[0]
    lines, notes = _lines(items, prices, status, currency)
    if not lines and status is not _CANCELLED:
        raise MappingError("items", "no item with a quantity: nothing to ship on an order that is not cancelled")
    placed, updated, ship_by = order.PurchaseDate, order.LastUpdateDate, order.LatestShipDate
    # as_utc's fast case (msgspec decodes "Z" as UTC itself): inside its bounds (2000 to 2100 UTC, both on
    # 1 January 00:00) when the year is; anything else goes through as_utc, which converts or names the field
    if not (placed.tzinfo is UTC and _FIRST_YEAR <= placed.year < _END_YEAR):
        placed = as_utc(placed, "order.PurchaseDate")
    if not (updated.tzinfo is UTC and _FIRST_YEAR <= updated.year < _END_YEAR):
        updated = as_utc(updated, "order.LastUpdateDate")
    if ship_by is not None and not (ship_by.tzinfo is UTC and _FIRST_YEAR <= ship_by.year < _END_YEAR):
        ship_by = as_utc(ship_by, "order.LatestShipDate")
    ship_to = _address(order, bundle.address)
    if plain is None or status is OrderStatus.PENDING:
        totals = read_totals(order, items, prices, currency, status)
    else:
        totals = plain_totals(plain, currency)
    return canonical_order(
        shop, order.AmazonOrderId,
        platform_status=order.OrderStatus,
        status=status,
        fulfilled_by=FulfilledBy.PLATFORM if order.FulfillmentChannel == "AFN" else FulfilledBy.SELLER,
        placed_at=placed,
        updated_at=updated,
        ship_by=ship_by,
        currency=currency,
        lines=lines,
        ship_to=ship_to,
        totals=totals,
        notes=notes,
    )


def _plain_amounts(order: wire.Order, items: list[wire.Item], currency: str
                   ) -> tuple[list[Decimal], list[Decimal], list[Decimal], list[Decimal], Decimal | None] | None:
    """Line totals, shipping, tax and discount addends and the OrderTotal, read at once when every item has
    all six amounts in the order currency and every amount is plain decimal text (`plain_amounts`, which
    makes Money's checks on them all); else None, and each is read on its own, naming the field that fails."""
    texts = []
    for item in items:
        price, shipping, item_tax = item.ItemPrice, item.ShippingPrice, item.ItemTax
        shipping_tax, promotion, shipping_off = item.ShippingTax, item.PromotionDiscount, item.ShippingDiscount
        if (price is None or shipping is None or item_tax is None or shipping_tax is None or promotion is None
                or shipping_off is None):
            return None
        if not (price.CurrencyCode == shipping.CurrencyCode == item_tax.CurrencyCode == shipping_tax.CurrencyCode
                == promotion.CurrencyCode == shipping_off.CurrencyCode == currency):
            return None
        texts += (price.Amount, shipping.Amount, item_tax.Amount, shipping_tax.Amount, promotion.Amount,
                  shipping_off.Amount)
    total = order.OrderTotal
    if total is not None:
        if total.CurrencyCode != currency:
            return None
        texts.append(total.Amount)
    amounts = plain_amounts(texts, currency)
    if amounts is None:
        return None
    return (amounts[0:6 * len(items):6], amounts[1:6 * len(items):6], amounts[2:6 * len(items):6]
            + amounts[3:6 * len(items):6], amounts[4:6 * len(items):6] + amounts[5:6 * len(items):6],
            amounts[-1] if total is not None else None)


def _currency(order: wire.Order, items: list[wire.Item]) -> str:
    if order.OrderTotal is not None:
        return currency_of(order.OrderTotal.CurrencyCode, "order.OrderTotal.CurrencyCode")
    for i, item in enumerate(items):
        if item.ItemPrice is not None:
            return currency_of(item.ItemPrice.CurrencyCode, f"items[{i}].ItemPrice.CurrencyCode")
    if order.MarketplaceId in MARKETPLACE_CURRENCY:
        return MARKETPLACE_CURRENCY[order.MarketplaceId]
    raise MappingError("order.OrderTotal", "no price and no known marketplace to tell the currency")


def _line_totals(items: list[wire.Item], currency: str) -> list[Decimal | None]:
    """Each item's `ItemPrice`: what the whole line costs (not a unit price), None while Amazon hides it."""
    prices = []
    for i, item in enumerate(items):
        try:
            prices.append(None if item.ItemPrice is None else amount_in(item.ItemPrice, currency))
        except MappingError as exc:
            raise exc.at(f"items[{i}].ItemPrice") from None
    return prices


def _lines(items: list[wire.Item], prices: list[Decimal | None], status: OrderStatus,
           currency: str) -> tuple[tuple[OrderLine, ...], tuple[str, ...]]:
    """The lines, and a note for each item left out: Amazon zeroes QuantityOrdered on a cancelled item,
    which leaves nothing to ship or track, but an operator sees on the timeline that it was there."""
    cancelled = status is OrderStatus.CANCELLED
    lines, notes = [], []
    for i, (item, line_total) in enumerate(zip(items, prices, strict=True)):
        ordered = item.QuantityOrdered
        if ordered == 0:
            notes.append(f"items[{i}] (OrderItemId {str(item.OrderItemId)[:40]}, SKU "
                         f"{(item.SellerSKU or item.ASIN or '?')[:60]}) has QuantityOrdered 0: no line for it")
            continue
        if not 0 < ordered <= MAX_QUANTITY:  # (the wire Struct made it an int)
            quantity_of(ordered, "items", i, "QuantityOrdered")  # before dividing the line total by it
        shipped = min(item.QuantityShipped or 0, ordered)
        unit_price = None
        if line_total is not None:
            unit = line_total if ordered == 1 else line_total / ordered  # x / 1 is x, to the last digit
            if ordered != 1 and unit * ordered != line_total:
                raise MappingError(f"items[{i}].ItemPrice.Amount", f"line total does not divide by quantity {ordered}")
            try:  # the item's currency is the order's: _line_totals or _plain_amounts checked it
                # one unit: the line total itself, which passed Money's checks in that currency (amount_of or
                # plain_amounts); a share of it is below it and 0 or more, but may have more decimals: Money
                unit_price = checked_money(unit, currency) if ordered == 1 else Money(unit, item.ItemPrice.CurrencyCode)
            except InvalidModel as exc:
                raise MappingError(f"items[{i}].ItemPrice.Amount", f"as a unit price: {exc.message}") from None
        sku = item.SellerSKU or item.ASIN
        if not sku:
            raise MappingError(f"items[{i}].ASIN", "missing")
        try:
            lines.append(OrderLine(
                line_ids=(str(item.OrderItemId),),
                platform_sku=sku,
                title=item.Title or "",
                quantity=ordered,
                shipped_quantity=shipped,
                cancelled_quantity=ordered - shipped if cancelled else 0,
                unit_price=unit_price,
            ))
        except InvalidModel as exc:
            raise line_error(exc, "items", i, LINE_FIELDS) from None
    return tuple(lines), tuple(notes)


def _address(order: wire.Order, full: wire.Address | None) -> Address | None:
    """The RDT-fetched address when there is one, else the restricted one inside the order."""
    if full is not None and full.ShippingAddress is not None:
        source, path = full.ShippingAddress, "address.ShippingAddress"
    elif full is not None:
        source, path = full, "address"
    else:
        source, path = order.ShippingAddress, "order.ShippingAddress"
    if source is None or not source.CountryCode:
        return None
    name, line1 = source.Name or None, source.AddressLine1 or None
    try:
        return Address(
            country=source.CountryCode,
            name=name,
            company=source.CompanyName or None,
            phone=source.Phone or None,
            email=order.BuyerInfo.BuyerEmail or None if order.BuyerInfo is not None else None,
            line1=line1,
            line2=source.AddressLine2 or None,
            line3=source.AddressLine3 or None,
            city=source.City or None,
            region=source.StateOrRegion or None,
            district=source.District or source.County or None,
            postal_code=source.PostalCode or None,
            pii_complete=bool(name and line1),
        )
    except InvalidModel as exc:
        raise MappingError(f"{path}.{'CountryCode' if exc.path == 'country' else exc.path}", exc.message) from None
