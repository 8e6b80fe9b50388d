"""The AliExpress emulator's write side: batch inventory update and order fulfil (docs/platforms/aliexpress.md).

Inventory batches are capped at 20 products × 200 SKUs per product (the whole call is refused
beyond that); per-SKU problems land in ``update_failed_list``. Fulfil names no lines, only
``send_type`` all|part, so a "part" parcel is modelled as shipping the first unshipped unit.
"""

from __future__ import annotations

from typing import Any, Protocol

from sandbox.aliexpress.shapes import ORDER_STATUS, answer, business_error, json_param
from sandbox.core.http_types import Request, Response
from sandbox.core.listings import ListingIndex
from sandbox.core.orders import EventKind, GeneratedOrder, OrderEvent, Shipment, Status
from sandbox.core.server import EmulatorState

STOCK_UPDATE = "aliexpress.solution.batch.product.inventory.update"
FULFIL = "aliexpress.solution.order.fulfill"
MAX_PRODUCTS, MAX_SKUS = 20, 200
MAX_INVENTORY = 999_999  # not documented; a generous ceiling so absurd numbers are refused
# Logistics service keys the sandbox seller may ship with; OTHER needs a tracking_website.
SERVICE_NAMES = {"CAINIAO_STANDARD", "CAINIAO_PREMIUM", "DHL", "UPS", "UPSE", "FEDEX_IE", "USPS", "EMS",
                 "ROYAL_MAIL", "OTHER"}


class AliExpressPushTarget(EmulatorState, Protocol):
    """What these handlers use of ``AliExpressEmulator`` (it satisfies this; importing it here would be a cycle)."""

    listings: ListingIndex
    stock: dict[tuple[str, str], int]

    def owned(self, request: Request, oid: str) -> GeneratedOrder | None: ...


def update_inventory(emu: AliExpressPushTarget, request: Request) -> Response:
    account = request.caller.seller_login_id
    batch = json_param(request, "mutiple_product_update_list")
    if not isinstance(batch, list) or not batch or not all(isinstance(p, dict) for p in batch):
        return business_error(STOCK_UPDATE, "PARAM_ERROR", "mutiple_product_update_list must be a JSON list")
    if len(batch) > MAX_PRODUCTS:
        return business_error(STOCK_UPDATE, "PRODUCT_NUM_EXCEED", f"at most {MAX_PRODUCTS} products per call")
    for product in batch:
        skus = product.get("multiple_sku_update_list")
        if not isinstance(skus, list) or not skus or not all(isinstance(s, dict) for s in skus):
            return business_error(STOCK_UPDATE, "PARAM_ERROR", "multiple_sku_update_list must be a non-empty list")
        if len(skus) > MAX_SKUS:
            return business_error(STOCK_UPDATE, "SKU_NUM_EXCEED", f"at most {MAX_SKUS} SKUs per product")
    succeeded, failed = [], []
    for product in batch:
        product_id = str(product.get("product_id"))
        for entry in product["multiple_sku_update_list"]:
            content = {"product_id": product_id, "sku_code": entry.get("sku_code"), "inventory": entry.get("inventory")}
            problem = _sku_problem(emu, product_id, entry)
            emu.record_push("stock", account, problem is None, content, [problem] if problem else [])
            if problem:
                failed.append({"product_id": product_id, "sku_code": entry.get("sku_code"), **problem})
            else:
                emu.stock[(account, entry["sku_code"])] = int(entry["inventory"])
                succeeded.append({"product_id": product_id, "sku_code": entry["sku_code"]})
    return answer(STOCK_UPDATE, {"success": True, "update_success": not failed,
                                 "update_error_code": "SKU_UPDATE_FAILED" if failed else None,
                                 "update_error_message": f"{len(failed)} SKUs failed" if failed else None,
                                 "update_successful_list": succeeded, "update_failed_list": failed})


def _sku_problem(emu: AliExpressPushTarget, product_id: str, entry: dict[str, Any]) -> dict[str, str] | None:
    if product_id not in emu.listings.by_listing:
        return {"error_code": "PRODUCT_NOT_EXIST", "error_message": "the product does not exist"}
    if not emu.listings.belongs(entry.get("sku_code"), product_id):
        return {"error_code": "SKU_NOT_EXIST", "error_message": "the sku_code is not a SKU of the product"}
    inventory = entry.get("inventory")
    if isinstance(inventory, str) and inventory.isdigit():
        inventory = int(inventory)
    if not isinstance(inventory, int) or isinstance(inventory, bool) or not 0 <= inventory <= MAX_INVENTORY:
        return {"error_code": "INVENTORY_INVALID", "error_message": f"inventory must be 0..{MAX_INVENTORY}"}
    return None


def fulfil(emu: AliExpressPushTarget, request: Request) -> Response:
    """Record the parcel; refuse unknown services, OTHER without a website, or an order not awaiting goods."""
    params = request.params
    account = request.caller.seller_login_id
    content = {k: params.get(k) for k in ("out_ref", "service_name", "tracking_website", "send_type",
                                          "logistics_no", "description") if params.get(k) is not None}
    problem = _fulfil_problem(emu, request)
    if problem is not None:
        emu.record_push("tracking", account, False, content, [problem])
        return business_error(FULFIL, problem[0], problem[1])
    order = emu.owned(request, params["out_ref"])
    now = emu.clock.now()
    state = order.state(now)
    if params["send_type"] == "all":
        units: tuple = ()
    else:
        units = tuple(u for u in order.units() if u not in state.shipped)[:1]
    shipment = Shipment(units, params["service_name"], params["logistics_no"],
                        f"{len(order.events)}-{params['logistics_no']}")
    order.add_event(OrderEvent(EventKind.SHIPPED, now, now, shipment=shipment, source="push"))
    emu.record_push("tracking", account, True, content)
    return answer(FULFIL, {"success": True, "result_success": True})


def _fulfil_problem(emu: AliExpressPushTarget, request: Request) -> tuple[str, str] | None:
    params = request.params
    if not params.get("logistics_no", "").strip():
        return "PARAM_ERROR", "logistics_no is required"
    if params.get("send_type") not in ("all", "part"):
        return "PARAM_ERROR", "send_type must be all or part"
    service = params.get("service_name", "")
    if service not in SERVICE_NAMES:
        return "LOGISTICS_SERVICE_INVALID", f"unknown service_name {service!r}"
    if service == "OTHER" and not params.get("tracking_website", "").startswith(("http://", "https://")):
        return "PARAM_ERROR", "tracking_website is required when service_name is OTHER"
    order = emu.owned(request, params.get("out_ref", ""))
    if order is None:
        return "ORDER_NOT_FOUND", "out_ref is not an order of this seller"
    status = order.state(emu.clock.now()).status
    if status not in (Status.READY, Status.PARTIALLY_SHIPPED):
        return "ORDER_STATUS_ERROR", f"order status is {ORDER_STATUS[status]}"
    return None
