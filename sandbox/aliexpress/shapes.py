"""How the AliExpress emulator renders neutral orders as "solution" API documents, and its envelopes.

Pure functions. The deliberate hazards (docs/platforms/aliexpress.md): every time is a "yyyy-MM-dd HH:mm:ss" string
in US Pacific time (daylight saving included, so one autumn hour is written twice), money is
``{amount: "170.54", currency_code}``, quantities are ``product_count``, ids are int64 numbers, the
United Kingdom is spelled ``UK`` in addresses, and business errors hide in ``result.success``.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.core.generator import stable_digits
from sandbox.core.http_types import Request, Response
from sandbox.core.orders import Address, GeneratedOrder, OrderState, Status
from sandbox.core.world import ADDRESS_BOOKS, CATALOGUE, MARKETS

PACIFIC = ZoneInfo("America/Los_Angeles")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# Cancelled orders: AliExpress closes them as FINISH with an end reason (IN_CANCEL is only the
# buyer's pending request), so they only show up when FINISH is asked for explicitly.
ORDER_STATUS = {
    Status.PENDING: "PLACE_ORDER_SUCCESS",
    Status.READY: "WAIT_SELLER_SEND_GOODS",
    Status.PARTIALLY_SHIPPED: "SELLER_PART_SEND_GOODS",
    Status.SHIPPED: "WAIT_BUYER_ACCEPT_GOODS",
    Status.CANCELLED: "FINISH",
}
LOGISTICS_STATUS = {
    Status.PENDING: "NO_LOGISTICS", Status.READY: "WAIT_SELLER_SEND_GOODS",
    Status.PARTIALLY_SHIPPED: "SELLER_SEND_PART_GOODS", Status.SHIPPED: "SELLER_SEND_GOODS",
    Status.CANCELLED: "NO_LOGISTICS",
}
ALL_STATUSES = {"PLACE_ORDER_SUCCESS", "IN_CANCEL", "WAIT_SELLER_SEND_GOODS", "SELLER_PART_SEND_GOODS",
                "WAIT_BUYER_ACCEPT_GOODS", "FUND_PROCESSING", "IN_ISSUE", "IN_FROZEN",
                "WAIT_SELLER_EXAMINE_MONEY", "RISK_CONTROL", "FINISH"}
END_REASONS = {"BUYER": "buyer_cancel_order", "SELLER": "seller_cancel_order", "SYSTEM": "pay_timeout_cancel"}
ADDRESS_COUNTRY = {"GB": "UK"}  # AliExpress's own spelling; everything else is ISO alpha-2
CALLING_CODES = {"US": "+1", "GB": "+44", "DE": "+49", "FR": "+33", "JP": "+81", "MX": "+52"}
MALFORMATIONS = 3  # gmt_create "yesterday", a product without product_count, pay_amount.amount as a number



def product_id(family: str) -> int:
    return int("1005" + stable_digits("ae-product", family, length=12))


# The order catalogue's product ids (orders only ever hold CATALOGUE items); stock uses the emulator's index.
PRODUCT_IDS = {item.family: product_id(item.family) for item in CATALOGUE}


def pacific(moment: datetime) -> str:
    """An instant as AliExpress writes it: Pacific wall-clock time, no offset."""
    return moment.astimezone(PACIFIC).strftime(TIME_FORMAT)


def parse_pacific(text: str) -> datetime:
    """A query's Pacific string as an instant. Ambiguous autumn times are read as the first (PDT)
    occurrence and spring-gap times with the pre-jump offset: zoneinfo's ``fold=0`` rules."""
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=PACIFIC).astimezone(UTC)


def request_id() -> str:
    return secrets.token_hex(7)


def gateway_error(kind: str, code: str, message: str, status: int = 200) -> Response:
    """The IOP gateway's own error body (signature, token, throttling, unknown method)."""
    return Response.json(status, {"type": kind, "code": code, "message": message, "request_id": request_id()})


def answer(method: str, result: Any, status: int = 200) -> Response:
    """``{<method with _>_response: {result, request_id}}`` (the unsimplified envelope)."""
    return Response.json(status, {f"{method.replace('.', '_')}_response": {"result": result,
                                                                          "request_id": request_id()}})


def business_error(method: str, code: str, message: str) -> Response:
    return answer(method, {"success": False, "error_code": code, "error_message": message})


def json_param(request: Request, name: str) -> Any:
    """A business parameter sent as a JSON string inside one form field (``param0``, ``param1``)."""
    try:
        return json.loads(request.params.get(name) or "null")
    except ValueError:
        return None


def order_id(order: GeneratedOrder) -> str:
    return f"81{order.serial}"


def child_id(order: GeneratedOrder, line_no: int) -> int:
    return int("81" + stable_digits("ae-child", order.serial, line_no, length=14))


def money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"amount": str(amount), "currency_code": currency}


def product_status(order: GeneratedOrder, state: OrderState, line_no: int, quantity: int) -> str:
    if state.status in (Status.PENDING, Status.CANCELLED):
        return ORDER_STATUS[state.status]
    shipped = state.shipped_quantity(line_no)
    if shipped == 0:
        return "WAIT_SELLER_SEND_GOODS"
    return "WAIT_BUYER_ACCEPT_GOODS" if shipped == quantity else "SELLER_PART_SEND_GOODS"


def render_order(oid: str, order: GeneratedOrder, state: OrderState, seller_login_id: str,
                 malformation: int | None) -> dict[str, Any]:
    """An ``order_dto`` as order.get lists it.

    Platform-fulfilled generated orders are rendered as ordinary seller orders: the published material shows
    no FBA-like programme for AliExpress, so every order here is the seller's to ship.
    """
    status = state.status
    doc: dict[str, Any] = {
        "order_id": int(oid),
        "order_status": ORDER_STATUS[status],
        "logistics_status": LOGISTICS_STATUS[status],
        "fund_status": "NOT_PAY" if state.paid_at is None else "PAY_SUCCESS",
        "frozen_status": "NO_FROZEN",
        "issue_status": "NO_ISSUE",
        "gmt_create": pacific(order.created_at),
        "gmt_update": pacific(state.updated_at),
        "pay_amount": money(order.total(), order.currency),
        "buyer_login_id": f"{order.country.lower()}{order.buyer_email_local[:10]}",
        "buyer_signer_fullname": state.address.name,
        "seller_login_id": seller_login_id,
        "payment_type": "MIXEDCARD" if state.paid_at else "",
        "biz_type": "AE_COMMON",
        "product_list": {"order_product_dto": products(oid, order, state)},
    }
    if state.paid_at is not None:
        doc["gmt_pay_time"] = pacific(state.paid_at)
    if state.first_shipped_at is not None:
        doc["gmt_send_goods_time"] = pacific(state.first_shipped_at)
    if status is Status.CANCELLED:
        doc["end_reason"] = END_REASONS.get(state.cancel_initiator, "seller_cancel_order")
    if malformation is not None:
        _malform(doc, malformation)
    return doc


def products(oid: str, order: GeneratedOrder, state: OrderState) -> list[dict[str, Any]]:
    rows = []
    for line in order.lines:
        son_status = product_status(order, state, line.line_no, line.quantity)
        rows.append({
            "child_id": child_id(order, line.line_no),
            "order_id": int(oid),
            "product_id": PRODUCT_IDS[line.item.family],
            "sku_code": line.item.sku,
            "product_name": line.item.title,
            "product_count": line.quantity,
            "product_unit_price": money(line.unit_price, order.currency),
            "total_product_amount": money(line.unit_price * line.quantity, order.currency),
            "logistics_type": "CAINIAO_STANDARD" if not order.express else "DHL",
            "logistics_service_name": "AliExpress Standard Shipping" if not order.express else "DHL",
            "send_goods_operator": "WAREHOUSE_SEND_GOODS",
            "son_order_status": son_status,
            "show_status": son_status,
            "goods_prepare_time": 3,
            "freight_commit_day": "15" if order.express else "30",
            "memo": "",
        })
    return rows


def receipt_address(address: Address) -> dict[str, Any]:
    """What order.receiptinfo.get answers: one ``contact_person`` and the phone split off its code."""
    code = CALLING_CODES[address.country]
    digits = "".join(ch for ch in address.phone if ch.isdigit())
    national = digits[len(code) - 1:] if address.phone.startswith("+") else digits.lstrip("0")
    country = ADDRESS_COUNTRY.get(address.country, address.country)
    detail = " ".join(p for p in (address.line1, address.line2) if p)
    return {
        "contact_person": address.name, "country": country, "province": address.region, "city": address.city,
        "address": address.line1, "address2": address.line2, "detail_address": detail,
        "zip": address.postal_code, "phone_country": code, "mobile_no": national, "phone_number": "",
        "localized_address": detail if ADDRESS_BOOKS[address.country].family_name_first else "",
    }


def detail(oid: str, order: GeneratedOrder, state: OrderState) -> dict[str, Any]:
    """``result.data`` of order.info.get: the detail view with its own field names."""
    market = MARKETS[order.country]
    return {
        "id": int(oid),
        "order_status": ORDER_STATUS[state.status],
        "gmt_create": pacific(order.created_at),
        "gmt_modified": pacific(state.updated_at),
        "receipt_address": receipt_address(state.address),
        "child_order_list": [{
            "child_order_id": row["child_id"], "product_id": row["product_id"], "sku_code": row["sku_code"],
            "product_count": row["product_count"], "product_price": row["product_unit_price"],
            "order_status": row["son_order_status"]} for row in products(oid, order, state)],
        "order_amount": money(order.total(), order.currency),
        "logistics_amount": money(order.shipping_fee, order.currency),
        "tax_included": market.tax_included,
    }


def _malform(doc: dict[str, Any], variant: int) -> None:
    if variant == 0:
        doc["gmt_create"] = "yesterday"
    elif variant == 1:
        doc["product_list"]["order_product_dto"][0].pop("product_count")
    else:
        doc["pay_amount"]["amount"] = float(doc["pay_amount"]["amount"])
