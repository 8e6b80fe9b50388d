"""TikTok Shop raw bundle → canonical Order. Pure: no I/O, one typed error naming the field path.

Bundle: {"order": <order object as returned by order search (202309) or order detail (202507)>}; both
versions send the same order object outside Brazil (docs/platforms/tiktok.md), so one mapping reads both.
Quirks undone here: one line item per unit (collapsed per SKU, every unit id kept, since tracking
is pushed per id); times are unix seconds; amounts are decimal strings in `payment.currency`;
FULFILLMENT_BY_TIKTOK orders are TikTok's to ship; names and phones arrive masked ("J*** D***").
"""

from __future__ import annotations

from typing import Any

import msgspec
import orjson

from connectors.fields import canonical_order, decode_bundle, identify_order
from connectors.tiktok import wire
from connectors.values import currency_of, epoch_time, line_error, money, money_of
from pipeline.errors import InvalidModel, MappingError
from pipeline.model import Address, FulfilledBy, Money, Order, OrderLine, OrderStatus, Totals
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


def identify(bundle: dict[str, Any]) -> BundleIdentity:
    return identify_order(bundle, "id", lambda order: order["update_time"].epoch_seconds())


def map_order(bundle: dict[str, Any], shop: ShopRef) -> Order:
    """A bundle as a dict (tests, the CLI): mapped exactly as the stored bytes are."""
    return map_raw(orjson.dumps(bundle, option=orjson.OPT_SORT_KEYS), shop)


def map_raw(raw: bytes, shop: ShopRef) -> Order:
    """The pipeline's path: the bundle bytes the store keeps → Order."""
    order = decode_bundle(_DECODER, raw).order
    if order.status not in STATUS:
        raise MappingError("order.status", f"unknown status {order.status!r}")
    currency = currency_of(order.payment.currency, "order.payment.currency")
    return canonical_order(
        shop, str(order.id),
        platform_status=order.status,
        status=STATUS[order.status],
        fulfilled_by=FulfilledBy.PLATFORM if order.fulfillment_type == "FULFILLMENT_BY_TIKTOK"
        else FulfilledBy.SELLER,
        placed_at=epoch_time(order.create_time, "order.create_time"),
        updated_at=epoch_time(order.update_time, "order.update_time"),
        ship_by=epoch_time(order.rts_sla_time, "order.rts_sla_time") if order.rts_sla_time is not None else None,
        currency=currency,
        lines=_lines(order.line_items, currency),
        ship_to=_address(order.recipient_address),
        totals=_totals(order.payment, currency),
    )


def _lines(items: list[wire.LineItem], currency: str) -> tuple[OrderLine, ...]:
    """Collapse unit rows per SKU: quantity = rows, line_ids = every row id, in platform order."""
    groups: dict[str, list[int]] = {}  # SKU → indexes of its rows
    for index, item in enumerate(items):
        groups.setdefault(str(item.sku_id), []).append(index)
    lines = []
    for sku_id, indexes in groups.items():
        rows = [items[i] for i in indexes]
        first = rows[0]
        cancelled = sum(1 for r in rows if "CANCELLED" in (r.display_status, r.package_status))
        shipped = sum(1 for r in rows if r.package_status in SHIPPED_UNIT)
        price = None
        if first.sale_price is not None:
            price = money_of(first.sale_price, currency, f"order.line_items[{indexes[0]}].sale_price")
        try:
            lines.append(OrderLine(
                line_ids=tuple(str(r.id) for r in rows),
                platform_sku=first.seller_sku or sku_id,
                title=first.product_name or "",
                quantity=len(rows),
                cancelled_quantity=cancelled,
                shipped_quantity=shipped,
                unit_price=price,
            ))
        except InvalidModel as exc:
            raise line_error(exc, "order.line_items", indexes[0], LINE_FIELDS) from None
    return tuple(lines)


def _totals(payment: wire.Payment, currency: str) -> Totals:
    def field(name: str) -> Money:
        value = getattr(payment, name)
        if value is None:
            return Money.zero(currency)
        return money_of(value, currency, f"order.payment.{name}")

    discount = money(field("seller_discount").amount + field("platform_discount").amount, currency,
                     "order.payment.{seller_discount,platform_discount}")
    return Totals(items=field("sub_total"), shipping=field("shipping_fee"), tax=field("tax"), discount=discount,
                  total=field("total_amount"))


def _address(doc: wire.RecipientAddress | None) -> Address | None:
    if doc is None:
        return None  # outside the US TikTok shows no recipient while an order is UNPAID or ON_HOLD
    levels = {d.address_level: d.address_name for d in doc.district_info or ()}
    masked: list[str] = []

    def clear(name: str, value: str | None) -> str | None:
        """A desensitised field (any `*`: TikTok masks name, phone, street lines, postcode and L3/L4 in the
        US by status) is withheld, never copied: without a name or street the order is held and fetched
        again until TikTok shows them."""
        if value and "*" in value:
            masked.append(name)
            return None
        return value or None

    name, line1 = clear("name", doc.name), clear("address_line1", doc.address_line1)
    try:
        return Address(
            country=doc.region_code,
            name=name,
            phone=clear("phone_number", doc.phone_number),
            line1=line1,
            line2=clear("address_line2", doc.address_line2),
            line3=clear("address_line3", doc.address_line3),
            city=clear("city", doc.post_town or levels.get("L3") or levels.get("L2")),
            region=clear("region", levels.get("L1")),
            district=clear("district", levels.get("L4")),
            postal_code=clear("postal_code", doc.postal_code),
            pii_complete=not masked and bool(name and line1),
        )
    except InvalidModel as exc:
        path = "order.recipient_address"
        raise MappingError(f"{path}.region_code" if exc.path == "country" else f"{path}.{exc.path}",
                           exc.message) from None
