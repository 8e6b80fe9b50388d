"""How the TikTok Shop emulator renders neutral orders as 202309 order documents, and its envelope.

Pure functions. The deliberate hazards (docs/platforms/tiktok.md): unix-second ints for every time, money
as decimal strings with the currency in ``payment.currency``, one line item per unit (no
quantity field), state and city only inside ``district_info``, masked name and phone when
TikTok's logistics are used, and no recipient address while the order is UNPAID.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.core.generator import stable_digits
from sandbox.core.http_types import Response
from sandbox.core.orders import Address, GeneratedOrder, OrderState, Shipment, Status, Unit
from sandbox.core.world import ADDRESS_BOOKS, CATALOGUE, MARKETS, quantize

ORDER_STATUS = {
    Status.PENDING: "UNPAID",
    Status.READY: "AWAITING_SHIPMENT",
    Status.PARTIALLY_SHIPPED: "PARTIALLY_SHIPPING",
    Status.SHIPPED: "IN_TRANSIT",
    Status.CANCELLED: "CANCELLED",
}
ALL_STATUSES = {"UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING", "AWAITING_COLLECTION",
                "IN_TRANSIT", "DELIVERED", "COMPLETED", "CANCELLED"}
SHIPPING_PROVIDERS = {  # shipping_provider_id -> name (what /logistics/.../shipping_providers lists)
    "6617675021119438849": "UPS", "6617675021119438850": "USPS", "6617675021119438851": "FedEx",
    "6617675021119438852": "DHL", "6617675021119438853": "Royal Mail", "6617675021119438854": "Yamato",
}
PROVIDER_ID = {name: pid for pid, name in SHIPPING_PROVIDERS.items()}
COUNTRY_NAMES = {"US": "United States", "GB": "United Kingdom", "DE": "Germany", "FR": "France",
                 "JP": "Japan", "MX": "Mexico"}
L1_NAMES = {"US": "State", "GB": "County", "DE": "State", "FR": "Region", "JP": "Prefecture", "MX": "State"}
CALLING_CODES = {"US": "+1", "GB": "+44", "DE": "+49", "FR": "+33", "JP": "+81", "MX": "+52"}
MALFORMATIONS = 3  # create_time "yesterday", a line item without sku_id, total_amount as a JSON number



def product_id(family: str) -> str:
    return "17295" + stable_digits("tt-product", family, length=14)


def sku_id(sku: str) -> str:
    return "17296" + stable_digits("tt-sku", sku, length=14)


# The order catalogue's ids (orders only ever hold CATALOGUE items); stock pushes use the emulator's own index.
PRODUCT_IDS = {item.family: product_id(item.family) for item in CATALOGUE}
SKU_IDS = {item.sku: sku_id(item.sku) for item in CATALOGUE}


def envelope(data: Any, code: int = 0, message: str = "Success", status: int = 200,
             headers: dict[str, str] | None = None, now: datetime | None = None) -> Response:
    """``{code, message, request_id, data}``; errors also come back as HTTP 200 (except 429/5xx)."""
    return Response.json(status, {"code": code, "message": message, "request_id": request_id(now),
                                  "data": data}, headers)


def request_id(now: datetime | None = None) -> str:
    stamp = (now or datetime.now()).strftime("%Y%m%d%H%M%S")
    return stamp + secrets.token_hex(10).upper()


def param_error(name: str, reason: str, expected: str) -> Response:
    """TikTok's generic "Parameter {param_name} is invalid" (code 98001004) for bad input."""
    return envelope(None, 98001004, f"Parameter {name} is invalid. Reason: {reason}. Expected: {expected}")


def order_id(order: GeneratedOrder) -> str:
    return f"576{order.serial}1"


def line_item_id(order: GeneratedOrder, unit: Unit) -> str:
    return "577" + stable_digits("tt-line", order.serial, unit[0], unit[1], length=15)


def package_id(order: GeneratedOrder, shipment: Shipment) -> str:
    return "1153" + stable_digits("tt-package", order.serial, shipment.package_ref, length=15)


def shipping_type(order: GeneratedOrder) -> str:
    """FBT orders and about half of seller-fulfilled ones ship on TikTok's logistics (labels)."""
    return "TIKTOK" if order.platform_fulfilled or int(order.serial[-1]) % 2 == 0 else "SELLER"


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def amount(value: Decimal, currency: str) -> str:
    return str(quantize(value, currency))


def render_order(oid: str, order: GeneratedOrder, state: OrderState, warehouse_id: str,
                 always_mask: bool = False, malformation: int | None = None) -> dict[str, Any]:
    status = ORDER_STATUS[state.status]
    logistics = shipping_type(order)
    shipments = list(dict.fromkeys(state.shipped.values()))
    doc: dict[str, Any] = {
        "id": oid,
        "status": status,
        "create_time": unix(order.created_at),
        "update_time": unix(state.updated_at),
        "rts_sla_time": unix(order.ship_by),
        "tts_sla_time": unix(order.ship_by + timedelta(days=1)),
        "delivery_due_time": unix(order.ship_by + timedelta(days=6)),
        "buyer_email": f"{order.buyer_email_local[:6]}@scs.tiktokw.us",
        "buyer_message": "",
        "user_id": "70214" + stable_digits("tt-user", order.buyer_email_local, length=14),
        "fulfillment_type": "FULFILLMENT_BY_TIKTOK" if order.platform_fulfilled else "FULFILLMENT_BY_SELLER",
        "shipping_type": logistics,
        "delivery_type": "HOME_DELIVERY",
        "delivery_option_id": "70911466632296547" + ("86" if order.express else "85"),
        "delivery_option_name": "Express shipping" if order.express else "Standard shipping",
        "warehouse_id": warehouse_id,
        "is_cod": False, "is_sample_order": False, "is_replacement_order": False,
        "is_on_hold_order": False, "is_buyer_request_cancel": False,
        "has_updated_recipient_address": state.address_changed,
        "commerce_platform": "TIKTOK_SHOP",
        "packages": [{"id": package_id(order, s)} for s in shipments],
        "payment": payment(order),
        "line_items": line_items(order, state),
    }
    if state.paid_at is not None:
        doc["paid_time"] = unix(state.paid_at)
    if shipments:
        first = shipments[0]
        doc.update(rts_time=unix(state.first_shipped_at or state.updated_at), tracking_number=first.tracking_number,
                   shipping_provider=first.carrier, shipping_provider_id=PROVIDER_ID.get(first.carrier, ""))
    if state.status is Status.CANCELLED and state.cancelled_at:
        doc.update(cancel_time=unix(state.cancelled_at), cancellation_initiator=state.cancel_initiator,
                   cancel_reason="No longer needed" if state.cancel_initiator == "BUYER" else "Out of stock")
    if order.country == "US":
        # TikTok's US rule since 21 July 2025 (docs/platforms/tiktok.md, source N): masking follows the
        # order status, not the logistics; FBT orders stay masked in every status. The address is shown
        # (masked) while UNPAID or ON_HOLD too.
        hidden = always_mask or order.platform_fulfilled or status in US_MASKED_STATUSES
        doc["recipient_address"] = recipient_address(state.address, hidden, whole=hidden)
    elif status not in ("UNPAID", "ON_HOLD"):
        doc["recipient_address"] = recipient_address(state.address, always_mask or logistics == "TIKTOK")
    if malformation is not None:
        _malform(doc, malformation)
    return doc


def payment(order: GeneratedOrder) -> dict[str, str]:
    currency = order.currency
    added_tax = Decimal(0) if MARKETS[order.country].tax_included else order.tax_total()
    zero = amount(Decimal(0), currency)
    return {
        "currency": currency,
        "sub_total": amount(order.subtotal(), currency),
        "original_total_product_price": amount(order.subtotal(), currency),
        "shipping_fee": amount(order.shipping_fee, currency),
        "original_shipping_fee": amount(order.shipping_fee, currency),
        "seller_discount": zero, "platform_discount": zero,
        "shipping_fee_seller_discount": zero, "shipping_fee_platform_discount": zero,
        "tax": amount(added_tax, currency), "product_tax": amount(added_tax, currency),
        "shipping_fee_tax": zero, "retail_delivery_fee": zero,
        "total_amount": amount(order.total(), currency),
    }


US_MASKED_STATUSES = frozenset({"UNPAID", "ON_HOLD", "CANCELLED"})
"""US orders whose recipient is masked (source N; also 30 days after COMPLETED, which the sandbox's
book never reaches)."""


def recipient_address(address: Address, masked: bool, whole: bool = False) -> dict[str, Any]:
    """`masked`: name and phone desensitised; `whole` (the US rule): street lines, detail, postcode and the
    L3 level too. The mask patterns past name and phone are not published: any `*` marks a masked field."""
    family_first = ADDRESS_BOOKS[address.country].family_name_first
    first, _, last = address.name.partition(" ")
    if family_first:
        first, last = last, first
    phone = tiktok_phone(address)
    name = address.name
    if masked:
        name, first, last = _mask_name(name), _mask_name(first), _mask_name(last)
        phone = _mask_phone(phone)
    line1, line2, postal, city = address.line1, address.line2, address.postal_code, address.city
    if whole:
        line1, line2, postal, city = (_mask_text(v) for v in (line1, line2, postal, city))
    lines = [line1, line2]
    doc: dict[str, Any] = {
        "name": name, "first_name": first, "last_name": last, "phone_number": phone,
        "address_line1": line1, "address_line2": line2, "address_line3": "", "address_line4": "",
        "address_detail": line2,
        "full_address": ", ".join(p for p in (*lines, city, address.region, postal) if p),
        "postal_code": postal,
        "region_code": address.country,
        "district_info": [
            {"address_level_name": "Country", "address_name": COUNTRY_NAMES[address.country], "address_level": "L0"},
            {"address_level_name": L1_NAMES[address.country], "address_name": address.region, "address_level": "L1"},
            {"address_level_name": "City", "address_name": city, "address_level": "L3"},
        ],
    }
    if address.country == "GB":
        doc["post_town"] = address.city
    return doc


def tiktok_phone(address: Address) -> str:
    """``(+1)2135550142``: calling code in brackets, then the national number's digits."""
    code = CALLING_CODES[address.country]
    digits = "".join(ch for ch in address.phone if ch.isdigit())
    national = digits[len(code) - 1:] if address.phone.startswith("+") else digits.lstrip("0")
    return f"({code}){national}"


def _mask_phone(phone: str) -> str:
    prefix, _, national = phone.partition(")")
    return f"{prefix}){national[:3]}-***-{national[-4:]}"


def _mask_text(value: str) -> str:
    return value[:1] + "***" if value else value


def _mask_name(name: str) -> str:
    return " ".join(part[0] + "***" for part in name.split() if part)


def line_items(order: GeneratedOrder, state: OrderState) -> list[dict[str, Any]]:
    """One row per unit: quantity N becomes N rows with distinct ids and the same sku."""
    market = MARKETS[order.country]
    rows = []
    for line in order.lines:
        variant = line.item.title.partition(", ")[2]
        for unit_no in range(1, line.quantity + 1):
            unit = (line.line_no, unit_no)
            shipment = state.shipped.get(unit)
            row: dict[str, Any] = {
                "id": line_item_id(order, unit),
                "sku_id": SKU_IDS[line.item.sku],
                "seller_sku": line.item.sku,
                "product_id": PRODUCT_IDS[line.item.family],
                "product_name": line.item.title.partition(", ")[0],
                "sku_name": variant or "Default",
                "sku_image": f"https://p16-oec-va.ibyteimg.com/tos-maliva-i-o3syd03w52-us/{SKU_IDS[line.item.sku]}",
                "sku_type": "NORMAL",
                "original_price": amount(line.unit_price, order.currency),
                "sale_price": amount(line.unit_price, order.currency),
                "platform_discount": amount(Decimal(0), order.currency),
                "seller_discount": amount(Decimal(0), order.currency),
                "currency": order.currency,
                "is_gift": False,
                "item_tax": [] if market.tax_included else [
                    {"tax_type": "SALES_TAX", "tax_amount": amount(line.unit_tax, order.currency),
                     "tax_rate": str(market.tax_rate)}],
            }
            if state.status is Status.CANCELLED:
                row.update(display_status="CANCELLED", package_status="CANCELLED",
                           cancel_user=state.cancel_initiator, cancel_reason="No longer needed")
            elif shipment is not None:
                row.update(display_status="IN_TRANSIT", package_status="FULFILLING",
                           package_id=package_id(order, shipment), tracking_number=shipment.tracking_number,
                           shipping_provider_name=shipment.carrier,
                           shipping_provider_id=PROVIDER_ID.get(shipment.carrier, ""))
            else:
                row.update(display_status="UNPAID" if state.status is Status.PENDING else "AWAITING_SHIPMENT",
                           package_status="TO_FULFILL")
            rows.append(row)
    return rows


def _malform(doc: dict[str, Any], variant: int) -> None:
    if variant == 0:
        doc["create_time"] = "yesterday"
    elif variant == 1:
        doc["line_items"][0].pop("sku_id")
    else:
        doc["payment"]["total_amount"] = float(doc["payment"]["total_amount"])
