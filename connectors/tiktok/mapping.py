"""TikTok Shop raw bundle → canonical Order. Pure: no I/O, one typed error naming the field path.

Bundle: {"order": <order object as returned by order search or detail>}.
Quirks undone here: one line item per unit (collapsed per SKU, every unit id kept, since tracking
is pushed per id); times are unix seconds; amounts are decimal strings in `payment.currency`;
FULFILLMENT_BY_TIKTOK orders are TikTok's to ship; names and phones arrive masked ("J*** D***").
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from connectors.fields import Doc, canonical_order, identify_order, order_doc
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


def identify(bundle: dict[str, Any]) -> BundleIdentity:
    return identify_order(bundle, "id", lambda order: order["update_time"].epoch_seconds())


def map_order(bundle: dict[str, Any], shop: ShopRef) -> Order:
    order = order_doc(bundle)
    external_id = order["id"].text()
    raw_status = order["status"].text()
    if raw_status not in STATUS:
        raise MappingError("order.status", f"unknown status {raw_status!r}")
    status = STATUS[raw_status]
    currency = order["payment"]["currency"].text()
    return canonical_order(
        shop, external_id,
        platform_status=raw_status,
        status=status,
        fulfilled_by=FulfilledBy.PLATFORM if order["fulfillment_type"].text_or("") == "FULFILLMENT_BY_TIKTOK"
        else FulfilledBy.SELLER,
        placed_at=order["create_time"].epoch_seconds(),
        updated_at=order["update_time"].epoch_seconds(),
        ship_by=order["rts_sla_time"].epoch_seconds() if order["rts_sla_time"].present() else None,
        currency=currency,
        lines=tuple(_lines(order["line_items"], currency)),
        ship_to=_address(order["recipient_address"]),
        totals=_totals(order["payment"], currency),
    )


def _money(doc: Doc, currency: str) -> Money:
    try:
        return Money(doc.decimal_string(), currency)
    except InvalidModel as exc:
        raise MappingError(doc.path, exc.message) from None


def _lines(items: Doc, currency: str) -> list[OrderLine]:
    """Collapse unit rows per SKU: quantity = rows, line_ids = every row id, in platform order."""
    groups: OrderedDict[str, list[Doc]] = OrderedDict()
    for item in items.items():
        item["id"].text()
        groups.setdefault(item["sku_id"].text(), []).append(item)
    lines = []
    for sku_id, rows in groups.items():
        first = rows[0]
        cancelled = sum(1 for r in rows if "CANCELLED" in (r["display_status"].text_or(""), r["package_status"].text_or("")))
        shipped = sum(1 for r in rows if r["package_status"].text_or("") in SHIPPED_UNIT)
        lines.append(OrderLine(
            line_ids=tuple(r["id"].text() for r in rows),
            platform_sku=first["seller_sku"].text_or(None) or sku_id,
            title=first["product_name"].text_or("") or "",
            quantity=len(rows),
            cancelled_quantity=cancelled,
            shipped_quantity=shipped,
            unit_price=_money(first["sale_price"], currency) if first["sale_price"].present() else None,
        ))
    return lines


def _totals(payment: Doc, currency: str) -> Totals:
    def field(name: str) -> Money:
        return _money(payment[name], currency) if payment[name].present() else Money.zero(currency)

    discount = field("seller_discount") + field("platform_discount")
    return Totals(items=field("sub_total"), shipping=field("shipping_fee"), tax=field("tax"), discount=discount,
                  total=_money(payment["total_amount"], currency))


def _masked(value: str | None) -> bool:
    return value is not None and "*" in value


def _address(doc: Doc) -> Address | None:
    if not doc.present():
        return None  # TikTok shows no recipient while an order is UNPAID or ON_HOLD
    name = doc["name"].text_or(None)
    phone = doc["phone_number"].text_or(None)
    line1 = doc["address_line1"].text_or(None)
    levels = {d.get("address_level"): d.get("address_name") for d in (doc["district_info"].value or [])
              if isinstance(d, dict)} if doc["district_info"].present() else {}
    masked = _masked(name) or _masked(phone)
    try:
        return Address(
            country=doc["region_code"].text(),
            name=None if _masked(name) else name,
            phone=None if _masked(phone) else phone,
            line1=line1,
            line2=doc["address_line2"].text_or(None),
            line3=doc["address_line3"].text_or(None),
            city=doc["post_town"].text_or(None) or levels.get("L3") or levels.get("L2"),
            region=levels.get("L1"),
            district=levels.get("L4"),
            postal_code=doc["postal_code"].text_or(None),
            pii_complete=not masked and bool(name and line1),
        )
    except InvalidModel as exc:
        raise MappingError(f"{doc.path}.region_code" if exc.path == "country" else f"{doc.path}.{exc.path}",
                           exc.message) from None
