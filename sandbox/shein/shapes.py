"""How the SHEIN emulator renders neutral orders as order-list rows and order-detail entries, its
envelope, and its own copy of SHEIN's signature and AES cipher (docs/platforms/shein.md).

Pure functions. The deliberate hazards (docs/platforms/shein.md): times as "+0800" strings,
orderStatus a string in the list and an int in the detail, one goods row per unit (distinct
bigint goodsId, no quantity), amounts as JSON floats in major units, countries as full English
names, and only country/province/city/postCode in the detail: the rest of the address is behind
export-address.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from sandbox.core.generator import stable_digits
from sandbox.core.http_types import Response
from sandbox.core.orders import Address, GeneratedOrder, OrderState, Shipment, Status, Unit
from sandbox.core.world import CATALOGUE, MARKETS, quantize

UTC8 = timezone(timedelta(hours=8))
IV = b"space-station-default-iv"[:16]

# orderStatus (docs/platforms/shein.md). The emulator's choices where the generator has more or fewer states:
PENDING_PROCESSING, PENDING_SHIPMENT, PENDING_SHEIN_SHIPMENT, SHIPPED, DELIVERED = 1, 2, 3, 4, 5
USER_REFUNDED, REJECTED = 6, 9
ALL_STATUSES = frozenset(range(1, 10))
# performanceType's meaning is unverified (docs/platforms/shein.md): the emulator's own choice is 1 on
# seller-shipped orders, 2 on SHEIN-shipped ones (which are orderStatus 3, the signal Orderhub reads).
SELLER_PERFORMANCE, SHEIN_PERFORMANCE = 1, 2
COUNTRY_NAMES = {"US": "United States", "GB": "United Kingdom", "DE": "Germany", "FR": "France",
                 "JP": "Japan", "MX": "Mexico"}
SALES_SITES = {"US": "shein-us", "GB": "shein-uk", "DE": "shein-de", "FR": "shein-fr", "JP": "shein-jp",
               "MX": "shein-mx"}
# The carriers /open-api/order/express-channel offers: expressIdCode -> carrier name [INFERRED shape].
CARRIERS = {"1001": "UPS", "1002": "USPS", "1003": "FedEx", "1004": "DHL", "1005": "Royal Mail"}
MALFORMATIONS = 3  # orderTime "yesterday", a goods row without skuCode, orderCurrency null



def sku_code(sku: str) -> str:
    return "I" + format(int(stable_digits("shein-sku", sku, length=18)), "x")[:11]


# The order catalogue's skuCodes (orders only ever hold CATALOGUE items); stock calls use the emulator's index.
SKU_CODES = {item.sku: sku_code(item.sku) for item in CATALOGUE}


def envelope(info: Any, code: str = "0", msg: str = "OK", status: int = 200) -> Response:
    """``{code, msg, info, bbl, traceId}``; ``code`` is a string, "0" on success, errors in HTTP 200."""
    return Response(status, render_json({"code": code, "msg": msg, "info": info, "bbl": None,
                                         "traceId": secrets.token_hex(16)}),
                    {"Content-Type": "application/json;charset=UTF-8"})


# Error codes [INFERRED]: SHEIN documents only that code is a string and "0" means success.
E_HEADERS = ("40004", "missing x-lt-openKeyId, x-lt-timestamp or x-lt-signature")
E_OPEN_KEY = ("40003", "openKeyId is invalid or not authorised")
E_TIMESTAMP = ("40002", "x-lt-timestamp is invalid or more than 5 minutes away from server time")
E_SIGNATURE = ("40001", "signature verification failed")
E_THROTTLED = ("42900", "request too frequent, please try again later")
E_PARAM = "10002"
E_ORDER = ("20001", "order does not exist or does not belong to the seller")
E_ORDER_STATE = ("20002", "the order status does not allow this operation")
E_INTERNAL = ("50000", "system error, please try again later")


def param_error(message: str) -> Response:
    return envelope(None, E_PARAM, f"parameter error: {message}")


def render_json(value: Any) -> bytes:
    """JSON with every Decimal written as a bare number literal (SHEIN's floats: 12.98, 1980)."""
    return json.dumps(_numbers(value), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _numbers(value: Any) -> Any:
    if isinstance(value, Decimal):
        return json_number(value)
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_numbers(v) for v in value]
    return value


def json_number(value: Decimal) -> int | float:
    """An int when whole, else the float whose shortest repr is exactly the decimal's digits."""
    if value == value.to_integral_value():
        return int(value)
    number = float(value)
    if Decimal(repr(number)) != value:  # more digits than a double round-trips: refuse, never drift
        raise ValueError(f"{value} cannot be written as an exact JSON float")
    return number


# --- wire security (the emulator's own copy: never shared with connectors/) ----------------------
def sign(key_id: str, secret: str, path: str, timestamp: str, random_key: str) -> str:
    """docs/platforms/shein.md: randomKey + Base64(hex(HMAC-SHA256(secret + randomKey, id&timestamp&path)))."""
    value = f"{key_id}&{timestamp}&{path}".encode()
    digest = hmac.new((secret + random_key).encode(), value, hashlib.sha256).hexdigest()
    return random_key + base64.b64encode(digest.encode()).decode()


def verify(key_id: str, secret: str, path: str, timestamp: str, signature: str) -> bool:
    if len(signature) <= 5:
        return False
    return hmac.compare_digest(sign(key_id, secret, path, timestamp, signature[:5]), signature)


def aes_encrypt(plain: str, app_secret: str) -> str:
    padder = padding.PKCS7(128).padder()
    data = padder.update(plain.encode()) + padder.finalize()
    encryptor = Cipher(algorithms.AES(app_secret.encode()[:16]), modes.CBC(IV)).encryptor()
    return base64.b64encode(encryptor.update(data) + encryptor.finalize()).decode()


# --- ids and times ---------------------------------------------------------------------------
def order_no(order: GeneratedOrder) -> str:
    return f"GSH{order.serial}"


def goods_id(order: GeneratedOrder, unit: Unit) -> int:
    """A bigint per unit, as SHEIN gives one per piece (12 digits: safe in any JSON reader)."""
    return int(stable_digits("shein-goods", order.serial, unit[0], unit[1], length=12))


def shein_time(moment: datetime) -> str:
    """``2025-07-25T17:22:11.000+0800`` (second precision: the sandbox drops sub-seconds)."""
    return moment.astimezone(UTC8).strftime("%Y-%m-%dT%H:%M:%S.000+0800")


def parse_request_time(text: Any) -> datetime | None:
    """``yyyy-MM-dd HH:mm:ss`` in UTC+8, the request format of order-list; None when it is not that."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC8)
    except ValueError:
        return None


def shein_status(order: GeneratedOrder, state: OrderState, acknowledged: bool) -> int:
    """The generator's state as SHEIN's int status.

    SHEIN has no partially-shipped status: an order with some units shipped stays "pending
    shipment" (2) and the shipped units show in packageWaybillList. Cancelled orders are "user
    refunded" (6) unless the seller cancelled them, which SHEIN calls "rejected" (9).
    """
    if state.status is Status.CANCELLED:
        return REJECTED if state.cancel_initiator == "SELLER" else USER_REFUNDED
    if state.status is Status.SHIPPED:
        return SHIPPED
    if order.platform_fulfilled:
        return SHIPPED if state.status is Status.PARTIALLY_SHIPPED else PENDING_SHEIN_SHIPMENT
    if state.status is Status.PARTIALLY_SHIPPED or acknowledged:
        return PENDING_SHIPMENT
    return PENDING_PROCESSING


# --- documents -------------------------------------------------------------------------------
def list_row(oid: str, order: GeneratedOrder, status: int, updated: datetime) -> dict[str, Any]:
    return {"orderNo": oid, "orderStatus": str(status), "orderCreateTime": shein_time(order.created_at),
            "orderUpdateTime": shein_time(updated)}


def render_detail(oid: str, order: GeneratedOrder, state: OrderState, status: int, updated: datetime,
                  warehouse_code: str, malformation: int | None = None) -> dict[str, Any]:
    currency = order.currency
    shipments = list(dict.fromkeys(state.shipped.values()))
    added_tax = Decimal(0) if MARKETS[order.country].tax_included else order.tax_total()
    doc: dict[str, Any] = {
        "orderNo": oid,
        "billNo": "B" + stable_digits("shein-bill", order.serial, length=13),
        "orderType": 1,
        "orderStatus": status,
        "orderTag": [],
        "isCod": 2,
        "performanceType": SHEIN_PERFORMANCE if order.platform_fulfilled else SELLER_PERFORMANCE,
        "orderLogisticsType": 2 if order.express else 1,
        "optionalLogisticsList": [],
        "receiveMsg": receive_msg(state.address),
        "salesSite": SALES_SITES[order.country],
        "salesArea": order.country,
        "stockMode": 1,
        "storeCode": stable_digits("shein-store", order.account, length=10),
        "orderCurrency": currency,
        "productTotalPrice": quantize(order.subtotal(), currency),
        "estimatedGrossIncome": quantize(order.subtotal() * Decimal("0.85"), currency),
        # VAT markets price tax in; only US sales tax is on top, and only that is totalSaleTax here.
        "totalSaleTax": quantize(added_tax, currency),
        "storeDiscountTotalPrice": quantize(Decimal(0), currency),
        "promotionDiscountTotalPrice": quantize(Decimal(0), currency),
        "totalCommission": quantize(order.subtotal() * Decimal("0.15"), currency),
        "sellerShippingFee": quantize(order.shipping_fee, currency),
        "settleActuallyPrice": quantize(order.subtotal() * Decimal("0.85") + order.shipping_fee, currency),
        "unProcessReason": [],
        "orderTime": shein_time(order.created_at),
        "paymentTime": shein_time(state.paid_at) if state.paid_at else None,
        "orderAllocateTime": shein_time(state.paid_at) if state.paid_at else None,
        "requestDeliveryTime": shein_time(order.ship_by),
        "requestHandoverTime": shein_time(order.ship_by + timedelta(days=1)),
        "requestSignTime": shein_time(order.ship_by + timedelta(days=7)),
        "sellerDeliveryTime": shein_time(state.first_shipped_at) if state.first_shipped_at else None,
        "orderMsgUpdateTime": shein_time(updated),
        "addTime": shein_time(order.created_at),
        "orderGoodsInfoList": goods_rows(order, state, status, warehouse_code),
        "packageWaybillList": [waybill(order, s, state) for s in shipments],
    }
    if malformation is not None:
        _malform(doc, malformation)
    return doc


def receive_msg(address: Address) -> dict[str, str]:
    return {"country": COUNTRY_NAMES[address.country], "province": address.region, "city": address.city,
            "postCode": address.postal_code}


def goods_rows(order: GeneratedOrder, state: OrderState, status: int, warehouse_code: str) -> list[dict[str, Any]]:
    """One row per unit: quantity N becomes N rows with distinct goodsIds and the same skuCode."""
    currency = order.currency
    rows = []
    for line in order.lines:
        title, _, variant = line.item.title.partition(", ")
        for unit_no in range(1, line.quantity + 1):
            unit = (line.line_no, unit_no)
            rows.append({
                "goodsId": goods_id(order, unit),
                "skuCode": SKU_CODES[line.item.sku],
                "sellerSku": line.item.sku,
                "skc": "sk" + stable_digits("shein-skc", line.item.sku, length=14),
                "goodsSn": "sn" + stable_digits("shein-sn", line.item.family, length=10),
                "spuName": "m" + stable_digits("shein-spu", line.item.family, length=12),
                "goodsTitle": title,
                "skuAttribute": [{"attrValueId": stable_digits("shein-attr", variant, length=6),
                                  "attrName": variant or "one-size", "language": "en"}],
                "goodsStatus": SHIPPED if unit in state.shipped else status,
                "newGoodsStatus": SHIPPED if unit in state.shipped else status,
                "orderCurrency": currency,
                "sellerCurrencyPrice": quantize(line.unit_price, currency),
                "sellerCurrencyDiscountPrice": quantize(Decimal(0), currency),
                "saleTax": quantize(line.unit_tax, currency),
                "commission": quantize(line.unit_price * Decimal("0.15"), currency),
                "estimatedIncome": quantize(line.unit_price * Decimal("0.85"), currency),
                "warehouseCode": warehouse_code,
                "warehouseName": "Seller warehouse",
                "timeOutList": [{"timeOutType": 1, "timeOutTime": shein_time(order.ship_by)}],
                "customizationFlag": 0,
                "customizationInfo": None,
                "goodsWeight": Decimal(line.item.weight_g) / 1000,
            })
    return rows


def waybill(order: GeneratedOrder, shipment: Shipment, state: OrderState) -> dict[str, Any]:
    units = [u for u, s in state.shipped.items() if s == shipment]
    carrier_code = next((code for code, name in CARRIERS.items() if name == shipment.carrier), "")
    return {"packageNo": "P" + stable_digits("shein-pkg", order.serial, shipment.package_ref, length=12),
            "deliveryNo": "D" + stable_digits("shein-dlv", order.serial, shipment.package_ref, length=12),
            "waybillNo": shipment.tracking_number, "carrier": shipment.carrier, "carrierCode": carrier_code,
            "productInventoryList": [{"productId": goods_id(order, u)} for u in units],
            "packageLabel": "", "sortingCode": ""}


def export_address(oid: str, address: Address, email_local: str) -> dict[str, str]:
    """A receiveMsgList entry: the full ship-to, which the detail never carries."""
    first, _, last = address.name.partition(" ")
    return {"orderNo": oid, "firstName": first, "middleName": "", "lastName": last,
            "country": COUNTRY_NAMES[address.country], "province": address.region, "city": address.city,
            "district": "", "street": "", "address": address.line1, "addressExt": address.line2,
            "phone": address.phone, "postCode": address.postal_code, "taxNo": "",
            "email": f"{email_local[:8]}@privacy.shein.com"}


def _malform(doc: dict[str, Any], variant: int) -> None:
    if variant == 0:
        doc["orderTime"] = "yesterday"
    elif variant == 1:
        doc["orderGoodsInfoList"][0].pop("skuCode")
    else:
        doc["orderCurrency"] = None
