"""How the Amazon emulator renders neutral orders as SP-API Orders v0 documents.

Pure functions: order + state → the JSON Amazon would send. The nasty parts are deliberate:
money as decimal strings (JPY without decimals), ``ItemPrice`` as the line total, ``IsGift`` as a
string, pricing absent while Pending, ``QuantityOrdered`` 0 on cancelled orders, and the PII
split (restricted address without a Restricted Data Token). Also the ``{"errors": [...]}`` envelope.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.core.demo_accounts import AMAZON_MARKETPLACES
from sandbox.core.generator import stable_digits
from sandbox.core.http_types import Response
from sandbox.core.orders import Address, GeneratedOrder, OrderState, Status
from sandbox.core.world import quantize

ORDER_STATUS = {
    Status.PENDING: "Pending",
    Status.READY: "Unshipped",
    Status.PARTIALLY_SHIPPED: "PartiallyShipped",
    Status.SHIPPED: "Shipped",
    Status.CANCELLED: "Canceled",
}
ADDRESS_STATUSES = {"Unshipped", "PartiallyShipped", "Shipped", "InvoiceUnconfirmed"}
MARKETPLACE_OF = {country: mid for mid, country in AMAZON_MARKETPLACES.items()}
SALES_CHANNEL = {"US": "Amazon.com", "MX": "Amazon.com.mx", "GB": "Amazon.co.uk", "DE": "Amazon.de",
                 "FR": "Amazon.fr", "JP": "Amazon.co.jp"}
ID_PREFIX = {"US": "11", "MX": "70", "GB": "20", "DE": "30", "FR": "40", "JP": "25"}
INVALID_INPUT = "The input you have submitted is not valid. Please check your input and try again."
MALFORMATIONS = 3  # OrderTotal.Amount "abc", PurchaseDate missing, LatestShipDate not a date


def errors(status: int, code: str, message: str, details: str | None = "") -> Response:
    error = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return Response.json(status, {"errors": [error]})


def invalid(details: str = "", message: str = INVALID_INPUT) -> Response:
    return errors(400, "InvalidInput", message, details)


def not_found(what: str) -> Response:
    return errors(404, "NotFound", f"{what} not found", "")


def iso(moment: datetime) -> str:
    """SP-API dates: ISO 8601 UTC with a Z, whole seconds."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def amazon_order_id(order: GeneratedOrder) -> str:
    """The 3-7-7 AmazonOrderId; the first digits follow the marketplace like real ids do."""
    prefix = ID_PREFIX[order.country] + order.serial[0]
    return f"{prefix}-{order.serial[1:8]}-{order.serial[8:]}{order.serial[0]}"


def order_item_id(order: GeneratedOrder, line_no: int) -> str:
    return stable_digits("amazon-item", order.serial, line_no, length=14)


def asin(sku: str) -> str:
    digest = hashlib.sha256(f"asin:{sku}".encode()).digest()
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "B0" + "".join(alphabet[b % 36] for b in digest[:8])


def money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"CurrencyCode": currency, "Amount": str(quantize(amount, currency))}


def render_order(oid: str, order: GeneratedOrder, state: OrderState, now: datetime,
                 data_elements: frozenset[str] = frozenset(), malformation: int | None = None) -> dict[str, Any]:
    status = ORDER_STATUS[state.status]
    units = len(order.units())
    shipped = len(state.shipped)
    latest_ship = order.ship_by
    order_doc: dict[str, Any] = {
        "AmazonOrderId": oid,
        "SellerOrderId": oid,
        "PurchaseDate": iso(order.created_at),
        "LastUpdateDate": iso(state.updated_at),
        "OrderStatus": status,
        "FulfillmentChannel": "AFN" if order.platform_fulfilled else "MFN",
        "SalesChannel": SALES_CHANNEL[order.country],
        "ShipServiceLevel": f"{'Exp' if order.express else 'Std'} {order.country} Dom",
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": 0 if state.status is Status.CANCELLED else units - shipped,
        "PaymentMethod": "Other",
        "PaymentMethodDetails": ["Standard"],
        "MarketplaceId": MARKETPLACE_OF[order.country],
        "ShipmentServiceLevelCategory": "Expedited" if order.express else "Standard",
        "OrderType": "StandardOrder",
        "EarliestShipDate": iso(order.created_at),
        "LatestShipDate": iso(latest_ship),
        "EarliestDeliveryDate": iso(latest_ship + timedelta(days=1)),
        "LatestDeliveryDate": iso(latest_ship + timedelta(days=5)),
        "IsBusinessOrder": False,
        "IsPrime": order.express and order.country in ("US", "GB", "DE", "FR", "JP"),
        "IsPremiumOrder": False,
        "IsGlobalExpressEnabled": False,
        "IsReplacementOrder": False,
        "IsSoldByAB": False,
        "IsISPU": False,
        "IsAccessPointOrder": False,
        "HasRegulatedItems": False,
        "BuyerInfo": buyer_info(order, "buyerInfo" in data_elements),
        "AutomatedShippingSettings": {"HasAutomatedShippingSettings": False},
    }
    if state.paid_at is not None:
        order_doc["OrderTotal"] = money(order.total(), order.currency)
    if status in ADDRESS_STATUSES:
        order_doc["ShippingAddress"] = shipping_address(order, state, now, "shippingAddress" in data_elements)
    if malformation is not None:
        _malform(order_doc, malformation)
    return order_doc


def buyer_info(order: GeneratedOrder, with_pii: bool) -> dict[str, Any]:
    info: dict[str, Any] = {"BuyerEmail": f"{order.buyer_email_local}@marketplace.amazon.com"}
    if with_pii:
        info["BuyerName"] = order.address.name
    return info


def shipping_address(order: GeneratedOrder, state: OrderState, now: datetime, with_pii: bool) -> dict[str, Any]:
    """Restricted shape unless the caller holds an RDT for it; Phone follows Amazon's suppressions."""
    address: Address = state.address
    doc: dict[str, Any] = {"City": address.city, "StateOrRegion": address.region,
                           "PostalCode": address.postal_code, "CountryCode": address.country}
    if not with_pii:
        return doc
    full: dict[str, Any] = {"Name": address.name, "AddressLine1": address.line1}
    if address.line2:
        full["AddressLine2"] = address.line2
    full.update(doc)
    delivered_long_ago = state.status is Status.SHIPPED and now > order.ship_by + timedelta(days=5)
    if not order.platform_fulfilled and not delivered_long_ago:
        full["Phone"] = address.phone
    full["AddressType"] = "Residential"
    return full


def render_items(order: GeneratedOrder, state: OrderState) -> list[dict[str, Any]]:
    cancelled = state.status is Status.CANCELLED
    pending = state.status is Status.PENDING
    gift = int(order.serial[-2:]) < 3  # ~3% of orders are gifts
    currency = order.currency
    items = []
    for line in order.lines:
        item: dict[str, Any] = {
            "ASIN": asin(line.item.sku),
            "SellerSKU": line.item.sku,
            "OrderItemId": order_item_id(order, line.line_no),
            "Title": line.item.title,
            "QuantityOrdered": 0 if cancelled else line.quantity,
            "QuantityShipped": state.shipped_quantity(line.line_no),
            "ProductInfo": {"NumberOfItems": "1"},
            "ConditionId": "New",
            "ConditionSubtypeId": "New",
            "IsTransparency": False,
            "SerialNumberRequired": False,
            "BuyerRequestedCancel": {"IsBuyerRequestedCancel": "false", "BuyerCancelReason": ""},
        }
        if not pending and not cancelled:
            zero = money(Decimal(0), currency)
            item.update({
                "ItemPrice": money(line.unit_price * line.quantity, currency),  # a LINE total
                "ShippingPrice": money(order.shipping_fee if line.line_no == 1 else Decimal(0), currency),
                "ItemTax": money(line.unit_tax * line.quantity, currency),
                "ShippingTax": zero, "ShippingDiscount": zero, "ShippingDiscountTax": zero,
                "PromotionDiscount": zero, "PromotionDiscountTax": zero, "PromotionIds": [],
                "IsGift": "true" if gift else "false",
            })
        items.append(item)
    return items


def _malform(order_doc: dict[str, Any], variant: int) -> None:
    if variant == 0 and "OrderTotal" in order_doc:
        order_doc["OrderTotal"] = {**order_doc["OrderTotal"], "Amount": "abc"}
    elif variant in (0, 1):
        order_doc.pop("PurchaseDate")
    else:
        order_doc["LatestShipDate"] = "next tuesday"
