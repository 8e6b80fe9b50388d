"""How the TEMU emulator renders neutral orders as TEMU documents, and TEMU's response envelope.

Pure functions. The deliberate hazards (docs/platforms/temu.md): a parent order with one child ``orderSn``
per SKU, numeric statuses, unix-second ints, no address and no money in the list (separate
shippinginfo and amount calls), money as ``{currency, amount}`` with integer minor units, and
``skuId`` for LOCAL malls but ``productList[].productSkuId`` for SEMI malls.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.core.generator import stable_digits
from sandbox.core.http_types import Response
from sandbox.core.orders import Address, GeneratedOrder, OrderLine, OrderState, Status
from sandbox.core.world import CATALOGUE, MARKETS, MINOR_UNITS

PENDING, UN_SHIPPING, CANCELED, SHIPPED, PARTIALLY_SHIPPED, DELIVERED = 1, 2, 3, 4, 41, 5
ALL_STATUSES = {0, 1, 2, 3, 4, 41, 5, 51}  # 0 = every status (the list filter's default)
SELLER_FULFILLED = "fulfillBySeller"
# TEMU's partner warehouses ship these (fully managed): the seller must not.
PLATFORM_FULFILLED = "fulfillByCooperativeWarehouse"
# Only US=211 is documented (docs/platforms/temu.md); the others are [INFERRED] placeholders.
REGION_IDS = {"US": 211, "GB": 210, "DE": 76, "FR": 71, "JP": 104, "MX": 134}
COUNTRY_NAMES = {"US": "United States", "GB": "United Kingdom", "DE": "Germany", "FR": "France",
                 "JP": "Japan", "MX": "Mexico"}
CARRIERS = {1001: "UPS", 1002: "USPS", 1003: "FedEx", 1004: "DHL", 1005: "Royal Mail", 1006: "Yamato"}
MALFORMATIONS = 3  # updateTime as a date string, a child without goodsId, quantity as text
CONFIRMED_CHANGED_ADDRESS = "CONFIRMED_CHANGED_ADDRESS"



_ORDER_FAMILIES = {item.family for item in CATALOGUE}
_ORDER_SKUS = {item.sku for item in CATALOGUE}


def _id_length(known: bool) -> int:
    """Ten hashed digits for the order catalogue (the recorded fixtures hold those ids); fourteen for the
    synthetic load-test SKUs, where ten collide (100,000 SKUs in 10^10 ids clash about half the time)."""
    return 10 if known else 14


def goods_id(family: str) -> str:
    return "60100" + stable_digits("temu-goods", family, length=_id_length(family in _ORDER_FAMILIES))


def sku_id(sku: str) -> str:
    """The LOCAL mall's skuId (what stock edits name); SEMI malls see ``product_sku_id`` instead."""
    return "50100" + stable_digits("temu-sku", sku, length=_id_length(sku in _ORDER_SKUS))


def product_sku_id(sku: str) -> str:
    return "70100" + stable_digits("temu-product-sku", sku, length=10)


# The order catalogue's ids (orders only ever hold CATALOGUE items); stock edits use the emulator's own index.
GOODS_IDS = {item.family: goods_id(item.family) for item in CATALOGUE}
SKU_IDS = {item.sku: sku_id(item.sku) for item in CATALOGUE}
PRODUCT_SKU_IDS = {item.sku: product_sku_id(item.sku) for item in CATALOGUE}


@dataclass(frozen=True)
class TemuView:
    """What TEMU shows of an order at one instant: the neutral state plus TEMU's own delivered step."""

    state: OrderState
    status: int
    updated_at: datetime


def envelope(result: Any = None, code: int = 1000000, message: str = "", status: int = 200,
             now: datetime | None = None) -> Response:
    """``{success, errorCode, errorMsg, result, requestId}``; failures are HTTP 200 with success false."""
    return Response.json(status, {"success": code == 1000000, "errorCode": code, "errorMsg": message,
                                  "result": result, "requestId": request_id(now)})


def request_id(now: datetime | None = None) -> str:
    stamp = (now or datetime.now()).strftime("%Y%m%d%H%M%S")
    return f"us-{stamp}-{secrets.token_hex(8)}"


def parent_order_sn(order: GeneratedOrder) -> str:
    return f"PO-{REGION_IDS[order.country]}-" + stable_digits("temu-parent", order.serial, length=17)


def child_order_sn(order: GeneratedOrder, line: OrderLine) -> str:
    return f"{REGION_IDS[order.country]}-" + stable_digits("temu-child", order.serial, line.line_no, length=17)


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def view(order: GeneratedOrder, now: datetime, delivered_after: timedelta) -> TemuView:
    """Fold the order; a fully shipped order becomes DELIVERED (5) ``delivered_after`` its last parcel."""
    state = order.state(now)
    status = {Status.PENDING: PENDING, Status.READY: UN_SHIPPING, Status.CANCELLED: CANCELED,
              Status.PARTIALLY_SHIPPED: PARTIALLY_SHIPPED, Status.SHIPPED: SHIPPED}[state.status]
    updated = state.updated_at
    if status == SHIPPED and now >= state.updated_at + delivered_after:
        status, updated = DELIVERED, state.updated_at + delivered_after
    return TemuView(state, status, updated)


def child_status(view_: TemuView, line: OrderLine) -> int:
    if view_.status in (PENDING, CANCELED, DELIVERED):
        return view_.status
    shipped = view_.state.shipped_quantity(line.line_no)
    if shipped == 0:
        return UN_SHIPPING
    return SHIPPED if shipped == line.quantity else PARTIALLY_SHIPPED


def fulfillment_type(order: GeneratedOrder) -> str:
    return PLATFORM_FULFILLED if order.platform_fulfilled else SELLER_FULFILLED


def render_list_item(order: GeneratedOrder, view_: TemuView, mall_type: str,
                     malformation: int | None = None) -> dict[str, Any]:
    """One ``pageItems`` entry: ``{parentOrderMap, orderList}``, with no address and no money."""
    state = view_.state
    parent = {
        "parentOrderSn": parent_order_sn(order),
        "parentOrderStatus": view_.status,
        "parentOrderTime": unix(order.created_at),
        "updateTime": unix(view_.updated_at),
        "expectShipLatestTime": unix(order.ship_by),
        "latestDeliveryTime": unix(order.ship_by + timedelta(days=7)),
        "parentShippingTime": unix(state.first_shipped_at) if state.first_shipped_at else None,
        "parentConfirmTime": unix(state.paid_at) if state.paid_at else None,
        "parentOrderPendingFinishTime": unix(state.paid_at) if state.paid_at else None,
        "regionId": REGION_IDS[order.country],
        "siteId": 100 + REGION_IDS[order.country],
        "parentOrderLabel": [],
        # The buyer's changed address was confirmed: re-read the ship-to (published fulfillmentWarning value).
        "fulfillmentWarning": [CONFIRMED_CHANGED_ADDRESS] if state.address_changed else [],
        "hasShippingFee": order.shipping_fee > 0,
        "orderPaymentType": "PPD",
        "shippingMethod": 1,
    }
    children = [_child(order, view_, line, mall_type) for line in order.lines]
    item = {"parentOrderMap": parent, "orderList": children}
    if malformation is not None:
        _malform(item, malformation)
    return item


def _child(order: GeneratedOrder, view_: TemuView, line: OrderLine, mall_type: str) -> dict[str, Any]:
    cancelled = line.quantity if view_.status == CANCELED else 0
    title, _, spec = line.item.title.partition(", ")
    shipped_at = next((s for (ln, _u), s in view_.state.shipped.items() if ln == line.line_no), None)
    child: dict[str, Any] = {
        "orderSn": child_order_sn(order, line),
        "orderStatus": child_status(view_, line),
        "quantity": line.quantity - cancelled,
        "originalOrderQuantity": line.quantity,
        "canceledQuantityBeforeShipment": cancelled,
        "isCancelledDuringPending": view_.status == CANCELED and view_.state.paid_at is None,
        "goodsId": GOODS_IDS[line.item.family],
        "goodsName": title,
        "originalGoodsName": title,
        "spec": spec or "Default",
        "originalSpecName": spec or "Default",
        "thumbUrl": f"https://img.kwcdn.com/product/{SKU_IDS[line.item.sku]}.jpg",
        "fulfillmentType": fulfillment_type(order),
        "orderCreateTime": unix(order.created_at),
        "orderShippingTime": unix(view_.state.first_shipped_at) if shipped_at else None,
        "orderLabel": [],
        "packageAbnormalTypeList": [],
    }
    product = {"productId": GOODS_IDS[line.item.family], "soldFactor": 1, "extCode": line.item.sku}
    if mall_type == "SEMI":
        product["productSkuId"] = PRODUCT_SKU_IDS[line.item.sku]
    else:
        child["skuId"] = SKU_IDS[line.item.sku]
    child["productList"] = [product]
    return child


def _malform(item: dict[str, Any], variant: int) -> None:
    if variant == 0:
        item["parentOrderMap"]["updateTime"] = "2026-03-02 12:00:00"
    elif variant == 1:
        item["orderList"][0].pop("goodsId")
    else:
        item["orderList"][0]["quantity"] = str(item["orderList"][0]["quantity"]) + " pcs"


def money(value: Decimal, currency: str) -> dict[str, Any]:
    """TEMU's Money: the amount as an integer count of minor units (19.99 USD → 1999, 1980 JPY → 1980)."""
    return {"currency": currency, "amount": int(value.scaleb(MINOR_UNITS[currency]))}


def render_amount(order: GeneratedOrder) -> dict[str, Any]:
    """``bg.order.amount.query`` ``result``, in the published shape: ``parentOrderMap`` (parent totals),
    ``orderList`` (one row per child order) and ``warning`` (strings).

    The parent totals keep TEMU's published identities: customerPaid = retailPriceTotal +
    shippingAmountTotal + taxTotal - refundsTotal + signOnDelivery - totalDiscount, and estimatedRevenue
    = basePriceTotal + shippingAmountTotal - estimatedRevenueDeduction + signOnDelivery. The buyer never
    buys signature on delivery here, so ``signOnDelivery`` is null as TEMU documents. ``taxTotal`` is
    the tax charged on top of the base prices (US sales tax); in VAT markets the base price already
    includes VAT and ``taxTotal`` is 0 [INFERRED: the split is not documented].
    """
    currency = order.currency
    included = MARKETS[order.country].tax_included
    added_tax = Decimal(0) if included else order.tax_total()
    zero = money(Decimal(0), currency)
    parent = {
        "parentOrderSn": parent_order_sn(order),
        "basePriceTotal": money(order.subtotal(), currency),
        "retailPriceTotal": money(order.subtotal(), currency),
        "shippingAmountTotal": money(order.shipping_fee, currency),
        "retailPriceTotalTaxIncl": money(order.subtotal() + added_tax, currency),
        "retailPriceTotalTaxExcl": money(order.subtotal() - (order.tax_total() if included else 0), currency),
        "taxTotal": money(added_tax, currency),
        "discountFromSeller": zero,
        "discountFromTEMU": zero,
        "totalDiscount": zero,
        "refundsTotal": zero,
        "customerPaid": money(order.total(), currency),
        "estimatedRevenueDeduction": zero,
        "estimatedRevenue": money(order.subtotal() + order.shipping_fee, currency),
        "signOnDelivery": None,
    }
    children = []
    for line in order.lines:
        incl = line.unit_price if included else line.unit_price + line.unit_tax
        excl = line.unit_price - line.unit_tax if included else line.unit_price
        children.append({
            "orderSn": child_order_sn(order, line),
            "quantity": line.quantity,
            "unitBasePrice": money(line.unit_price, currency),
            "basePrice": money(line.unit_price * line.quantity, currency),
            "unitRetailPrice": money(line.unit_price, currency),
            "unitRetailPriceVatIncl": money(incl, currency),
            "unitRetailPriceVatExcl": money(excl, currency),
            "productTaxAmount": money(line.unit_tax * line.quantity, currency),
            "discountFromSeller": zero,
            "discountFromTEMU": zero,
        })
    return {"parentOrderMap": parent, "orderList": children, "warning": []}


def render_shipping_info(address: Address, masked_phone: bool, masked_address: bool = False) -> dict[str, Any]:
    """``bg.order.shippinginfo.v2.get``: regionName1 is the country's name, 2 the state, 3 the city.

    ``masked_address``: SEMI malls' ship-to shows only country, state, city and postcode, the rest as
    ``***`` (TEMU's policy since 2025-03-17, docs/platforms/temu.md). ``masked_phone``: LOCAL malls
    sometimes get the phone masked; when and how is not published (the last four digits are kept here)."""
    document = render_decrypted_shipping(address)
    if masked_phone:
        digits = "".join(ch for ch in address.phone if ch.isdigit())
        document["mobile"] = "***-***-" + digits[-4:]
    if masked_address:
        for name in ("receiptName", "mobile", "addressLine1", "addressLine2", "addressLineAll"):
            document[name] = "***" if document[name] else ""
        document["addressExtra"].update(firstName="***", lastName="***")
    document["warning"] = {"isRestriction": False, "reason": ""}
    return document


def render_decrypted_shipping(address: Address) -> dict[str, Any]:
    """``bg.order.decryptshippinginfo.get``: the same fields in the clear, without ``warning``
    (the published response lists no warning object for this API)."""
    first, _, last = address.name.partition(" ")
    full = ", ".join(p for p in (address.line1, address.line2, address.city, address.region, address.postal_code) if p)
    return {
        "receiptName": address.name,
        "receiptAdditionalName": "",
        "mobile": address.phone,
        "backupMobile": "",
        "mail": "",
        "regionName1": COUNTRY_NAMES[address.country],
        "regionName2": address.region,
        "regionName3": address.city,
        "regionName4": "",
        "addressLine1": address.line1,
        "addressLine2": address.line2,
        "addressLine3": "",
        "addressLineAll": full,
        "postCode": address.postal_code,
        "addressExtra": {"firstName": first, "lastName": last, "additionalFirstName": "", "additionalLastName": ""},
    }
