"""SHEIN raw bundle → canonical Order. Pure: no I/O, one typed error naming the field path.

Bundle: {"order": <one order-detail info entry>, "address": <export-address receiveMsgList entry or null>}.
Quirks undone here: one goods row per unit (collapsed per skuCode, every goodsId kept, since tracking
is pushed per goodsId); times are "2025-07-25T17:22:11.000+0800" strings; amounts are SHEIN floats
that the client kept as their decimal text (never a binary float); countries are English names;
the detail carries only country/province/city/postCode, the rest comes from the address export.
Who ships: orderStatus 3 ("pending SHEIN shipment") is SHEIN's; performanceType decides nothing on its own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
import orjson

from connectors.fields import Doc, canonical_order, decode_bundle, identify_order
from connectors.shein import wire
from connectors.values import (
    as_utc,
    checked_money,
    currency_of,
    line_error,
    money,
    money_of,
    money_sum,
    plain_money,
)
from pipeline.countries import country_code_from_name
from pipeline.errors import InvalidModel, MappingError
from pipeline.model import (
    MAX_AMOUNT,
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

# orderStatus (int in the detail). 1 and 2 are both ours to ship: 2 only says we acknowledged it.
STATUS = {
    1: OrderStatus.READY,  # pending processing
    2: OrderStatus.READY,  # pending shipment (PARTIALLY_SHIPPED when some goods rows have a waybill)
    3: OrderStatus.READY,  # pending SHEIN shipment: SHEIN's to ship, the one PLATFORM-fulfilled signal
    4: OrderStatus.SHIPPED,
    5: OrderStatus.DELIVERED,
    6: OrderStatus.CANCELLED,  # user refunded
    7: OrderStatus.SHIPPED,  # pending collection: handed over, waiting for the buyer to collect
    8: OrderStatus.DELIVERED,  # reported damage: delivered, now a claim, nothing left to ship
    9: OrderStatus.CANCELLED,  # rejected
}
SHEIN_SHIPS_STATUS = 3
SELLER_SHIPS_STATUSES = frozenset({1, 2})  # pending processing / pending shipment: ours to ship, if ours at all
# performanceType: no public source found says what its values mean (docs/platforms/shein.md). It never
# makes an order SHEIN's to ship: a wrong guess there would silently leave every order unshipped. 1 is
# what the seller-shipped orders seen carry; any other value on an order still to ship holds it for review.
SELLER_PERFORMANCE = 1  # [UNVERIFIED]
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z"


_DECODER = msgspec.json.Decoder(wire.Bundle)
_ZERO = Decimal(0)
TOTALS = ("productTotalPrice", "sellerShippingFee", "totalSaleTax", "storeDiscountTotalPrice",
          "promotionDiscountTotalPrice")
_TOTAL_PATH = f"order.{{{','.join(TOTALS)}}} (items + shipping + tax - discounts)"
# Where each OrderLine field comes from in a goods row, for the path of a value the model refuses.
LINE_FIELDS = {"line_ids": "goodsId", "platform_sku": "sellerSku", "quantity": "skuCode"}


def identify(bundle: dict[str, Any]) -> BundleIdentity:
    return identify_order(bundle, "orderNo", lambda order: shein_time(order["orderMsgUpdateTime"]))


def map_order(bundle: dict[str, Any], shop: ShopRef) -> Order:
    """A bundle as a dict (tests, the CLI): mapped exactly as the stored bytes are."""
    return map_raw(orjson.dumps(bundle, option=orjson.OPT_SORT_KEYS), shop)


def map_raw(raw: bytes, shop: ShopRef) -> Order:
    """The pipeline's path: the bundle bytes the store keeps → Order. Flat on purpose: each call, closure
    and f-string here is paid per order (bench/normalize.py)."""
    bundle = decode_bundle(_DECODER, raw)
    order = bundle.order
    raw_status = order.orderStatus
    status = STATUS.get(raw_status)
    if status is None:
        raise MappingError("order.orderStatus", f"unknown status {raw_status}")
    currency = order.orderCurrency
    if currency not in MINOR_STEP:
        currency_of(currency, "order.orderCurrency")  # raises at the field
    by_shein = raw_status == SHEIN_SHIPS_STATUS
    if raw_status in SELLER_SHIPS_STATUSES and not _seller_performance(order.performanceType):
        raise MappingError("order.performanceType", f"{str(order.performanceType)[:12]!r} is not a fulfilment "
                           "type known from a public source: held for review, neither shipped nor ignored")
    rows = order.orderGoodsInfoList
    groups: dict[str, list[int]] = {}  # skuCode → indexes of its rows
    for index, row in enumerate(rows):
        sku = row.skuCode if type(row.skuCode) is str else str(row.skuCode)
        indexes = groups.get(sku)
        if indexes is None:
            groups[sku] = [index]
        else:
            indexes.append(index)
    texts = [order.productTotalPrice, order.sellerShippingFee, order.totalSaleTax, order.storeDiscountTotalPrice,
             order.promotionDiscountTotalPrice]  # TOTALS, in order
    for indexes in groups.values():
        texts.append(rows[indexes[0]].sellerCurrencyPrice)
    amounts = plain_money(texts, currency, whole=True)
    lines = _lines(rows, groups, None if amounts is None else amounts[len(TOTALS):], currency, _shipped_goods(order),
                   status)
    if raw_status == 2 and any(line.shipped_quantity for line in lines):
        status = OrderStatus.PARTIALLY_SHIPPED
    placed, updated, ship_by = order.orderTime, order.orderMsgUpdateTime, order.requestDeliveryTime
    # as_utc: a year inside (2000, 2099) is inside the bounds whatever the offset; else as_utc checks them
    placed = placed.astimezone(UTC) if 2000 < placed.year < 2099 else as_utc(placed, "order.orderTime")
    updated = updated.astimezone(UTC) if 2000 < updated.year < 2099 else as_utc(updated, "order.orderMsgUpdateTime")
    if ship_by is not None:
        ship_by = ship_by.astimezone(UTC) if 2000 < ship_by.year < 2099 else \
            as_utc(ship_by, "order.requestDeliveryTime")
    ship_to = _address(order.receiveMsg, bundle.address)
    totals = _totals(order, currency, None if amounts is None else amounts[:len(TOTALS)])
    return canonical_order(
        shop, order.orderNo,
        platform_status=str(raw_status),
        status=status,
        fulfilled_by=FulfilledBy.PLATFORM if by_shein else FulfilledBy.SELLER,
        placed_at=placed,
        updated_at=updated,
        ship_by=ship_by,
        currency=currency,
        lines=lines,
        ship_to=ship_to,
        totals=totals,
    )


def _seller_performance(value: Any) -> bool:
    return type(value) is int and value == SELLER_PERFORMANCE


def shein_time(doc: Doc) -> datetime:
    """"2025-07-25T17:22:11.000+0800" as aware UTC (for `identify`, which reads the raw dict)."""
    value = doc.text()
    try:
        moment = datetime.strptime(value, TIME_FORMAT)
    except ValueError:
        raise MappingError(doc.path, f"not a SHEIN time: {value[:30]!r}") from None
    return as_utc(moment, doc.path)


def _money(value: wire.Amount, currency: str, path: str) -> Money:
    """An amount as the client keeps it: the decimal text of SHEIN's JSON number (or a whole number).

    A binary float never gets here: the wire Structs refuse it, since 0.1 + 0.2 style drift would be silent.
    """
    return money_of(value, currency, path)


def _shipped_goods(order: wire.Order) -> set[str]:
    """goodsIds that sit in a package with a waybill: those units have left the warehouse."""
    shipped: set[str] = set()
    for i, package in enumerate(order.packageWaybillList or ()):
        if not package.waybillNo:
            continue
        if package.productInventoryList is None:
            raise MappingError(f"order.packageWaybillList[{i}].productInventoryList", "missing")
        shipped.update(str(product.productId) for product in package.productInventoryList)
    return shipped


def _lines(rows: list[wire.Goods], groups: dict[str, list[int]], prices: list[Money] | None, currency: str,
           shipped: set[str], status: OrderStatus) -> tuple[OrderLine, ...]:
    """Collapse unit rows per skuCode: quantity = rows, line_ids = every goodsId, in platform order. `prices`:
    each group's unit price, read already (plain_money), or None to read each here."""
    cancelled = status is OrderStatus.CANCELLED
    lines = []
    for n, (sku_code, indexes) in enumerate(groups.items()):
        first = rows[indexes[0]]
        if len(indexes) == 1 and type(first.goodsId) is str:
            ids: tuple[str, ...] = (first.goodsId,)
        else:
            ids = tuple([rows[i].goodsId if type(rows[i].goodsId) is str else str(rows[i].goodsId) for i in indexes])
        shipped_units = 0
        if shipped:
            for i in ids:
                if i in shipped:
                    shipped_units += 1
        unit_price = prices[n] if prices is not None else _money(
            first.sellerCurrencyPrice, currency, f"order.orderGoodsInfoList[{indexes[0]}].sellerCurrencyPrice")
        try:
            lines.append(OrderLine(
                line_ids=ids,
                # The seller's own SKU when SHEIN has one (what the SKU map and warehouses know), else SHEIN's.
                platform_sku=first.sellerSku or sku_code,
                seller_sku=first.sellerSku or None,
                title=first.goodsTitle or "",
                quantity=len(ids),
                shipped_quantity=shipped_units,
                cancelled_quantity=len(ids) - shipped_units if cancelled else 0,
                unit_price=unit_price,
            ))
        except InvalidModel as exc:
            raise line_error(exc, "order.orderGoodsInfoList", indexes[0], LINE_FIELDS) from None
    return tuple(lines)


def _totals(order: wire.Order, currency: str, plain: list[Money] | None) -> Totals:
    """items + shipping + tax - discounts. totalSaleTax is tax on top (US); VAT is inside the prices.
    `plain`: the five amounts read already (plain_money), or None to read each here."""
    if plain is None:
        plain = [Money.zero(currency) if getattr(order, name) is None
                 else _money(getattr(order, name), currency, f"order.{name}") for name in TOTALS]
    items, shipping, tax, store_discount, promotion_discount = plain
    # Each of the five passed Money's checks in `currency` (plain_money or money_of): a sum or difference
    # of them is exact and has the currency's decimals, so only its sign and ceiling are open. Those are
    # checked here; in range it is made with `checked_money` (no __post_init__), else `money` refuses it
    # with the model's message at the same path as before.
    discount = money_sum(store_discount, promotion_discount, currency,
                         "order.{storeDiscountTotalPrice,promotionDiscountTotalPrice}")
    paid = items.amount + shipping.amount + tax.amount - discount.amount
    total = checked_money(paid, currency) if _ZERO <= paid < MAX_AMOUNT else money(paid, currency, _TOTAL_PATH)
    return Totals(items=items, shipping=shipping, tax=tax, discount=discount, total=total)


def _country(name: str, path: str) -> str:
    code = country_code_from_name(name)
    if code is None:
        raise MappingError(path, f"unknown country name {name[:40]!r}")
    return code


def _address(summary: wire.Summary | None, export: wire.Export | None) -> Address:
    """The full export when there is one; else the detail's country/region/city/postcode, incomplete."""
    if export is None:
        if summary is None:
            raise MappingError("order.receiveMsg", "missing")
        return Address(country=_country(summary.country, "order.receiveMsg.country"),
                       region=summary.province or None, city=summary.city or None,
                       postal_code=summary.postCode or None, pii_complete=False)
    name = " ".join(n for n in (export.firstName, export.middleName, export.lastName) if n) or None
    # `street` is often empty and `address` holds the street line; when both are set, street comes first.
    parts = [p for p in (export.street, export.address, export.addressExt) if p]
    line1, line2, line3 = (parts + [None, None, None])[:3]
    return Address(
        country=_country(export.country, "address.country"),
        name=name,
        phone=export.phone or None,
        email=export.email or None,
        line1=line1,
        line2=line2,
        line3=line3,
        city=export.city or None,
        region=export.province or None,
        district=export.district or None,
        postal_code=export.postCode or None,
        pii_complete=bool(name and line1),
    )
