"""ExampleMart raw bundle `{"order": {...}}` → canonical Order. Pure: no I/O, one typed error naming the field path."""

from __future__ import annotations

from typing import Any

import msgspec
import orjson

from connectors.fields import (
    IsoTime,
    Text,
    as_utc,
    canonical_order,
    decimal_text,
    decode_bundle,
    identify_order,
    money,
)
from pipeline.errors import MappingError
from pipeline.model import Address, FulfilledBy, Order, OrderLine, OrderStatus
from pipeline.ports import BundleIdentity, ShopRef

STATUS = {"pending": OrderStatus.PENDING, "paid": OrderStatus.READY, "cancelled": OrderStatus.CANCELLED,
          "partially_shipped": OrderStatus.PARTIALLY_SHIPPED, "shipped": OrderStatus.SHIPPED}


class Line(msgspec.Struct, frozen=True):
    id: Text
    sku: Text
    quantity: int
    shipped: int
    unit_price: Text


class ShipTo(msgspec.Struct, frozen=True):
    name: str
    phone: str
    line1: str
    line2: str
    city: str
    region: str
    postal_code: str
    country: Text


class WireOrder(msgspec.Struct, frozen=True):
    id: Text
    status: Text
    fulfilled_by: Text
    created_at: IsoTime
    updated_at: IsoTime
    ship_by: IsoTime
    currency: Text
    lines: list[Line]
    ship_to: ShipTo


class Bundle(msgspec.Struct, frozen=True):
    order: WireOrder


_DECODER = msgspec.json.Decoder(Bundle)


def identify(bundle: dict[str, Any]) -> BundleIdentity:
    return identify_order(bundle, "id", lambda order: order["updated_at"].iso_time())


def map_order(bundle: dict[str, Any], shop: ShopRef) -> Order:
    return map_raw(orjson.dumps(bundle, option=orjson.OPT_SORT_KEYS), shop)


def map_raw(raw: bytes, shop: ShopRef) -> Order:
    order = decode_bundle(_DECODER, raw).order
    status = STATUS.get(order.status)
    if status is None:
        raise MappingError("order.status", f"unknown status {order.status!r}")
    to = order.ship_to
    return canonical_order(
        shop, order.id, platform_status=order.status, status=status,
        fulfilled_by=FulfilledBy.PLATFORM if order.fulfilled_by == "platform" else FulfilledBy.SELLER,
        placed_at=as_utc(order.created_at), updated_at=as_utc(order.updated_at), ship_by=as_utc(order.ship_by),
        currency=order.currency,
        lines=tuple(OrderLine(line_ids=(line.id,), platform_sku=line.sku, quantity=line.quantity,
                              shipped_quantity=line.shipped, cancelled_quantity=line.quantity - line.shipped
                              if status is OrderStatus.CANCELLED else 0,
                              unit_price=money(decimal_text(line.unit_price, f"order.lines[{i}].unit_price"),
                                               order.currency, f"order.lines[{i}].unit_price"))
                    for i, line in enumerate(order.lines)),
        ship_to=Address(country=to.country, name=to.name or None, phone=to.phone or None, line1=to.line1 or None,
                        line2=to.line2 or None, city=to.city or None, region=to.region or None,
                        postal_code=to.postal_code or None, pii_complete=bool(to.name and to.line1)),
    )
