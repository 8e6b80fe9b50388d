"""The TEMU emulator's write side: absolute stock edits, carriers and warehouses, shipment confirmation.

docs/platforms/temu.md A stock edit is idempotent by ``requestUniqueKey`` (the same key with the same body
is a no-op success; with another body it is refused). A shipment confirmation names child orders
and quantities per package; a tracking number is accepted once. Accepted pushes change the world.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from sandbox.generator import EventKind, GeneratedOrder, OrderEvent, Shipment
from sandbox.server import Request, Response
from sandbox.temu_shapes import (
    CARRIERS,
    GOODS_IDS,
    PARTIALLY_SHIPPED,
    PRODUCT_SKU_IDS,
    SKU_IDS,
    UN_SHIPPING,
    child_order_sn,
    envelope,
)

if TYPE_CHECKING:
    from sandbox.temu import TemuEmulator

MAX_STOCK = 999_999  # [INFERRED]: no published upper bound
E_BUSINESS = 2000000
E_TRACKING_USED = 2000101  # [INFERRED] code: the published material only says a number succeeds once
E_SEMI_STOCK = 140020001  # the local goods API is for LOCAL malls; SEMI stock is TEMU's to manage
NOT_BUSINESS = {"type", "app_key", "access_token", "timestamp", "data_type", "version", "sign"}


def _body(request: Request) -> dict[str, Any]:
    body = request.json()
    return body if isinstance(body, dict) else {}


def _business(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in NOT_BUSINESS}


# --- stock -------------------------------------------------------------------------------------
def stock_edit(emu: TemuEmulator, request: Request) -> Response:
    shop = request.caller
    body = _business(_body(request))
    if shop.mall_type != "LOCAL":
        return emu.error((E_SEMI_STOCK, "does not support this mall type (LOCAL malls only)"))
    if str(body.get("goodsId")) not in emu.listings.by_listing:
        return emu.error((E_BUSINESS, f"BUSINESS_EXCEPTION: goods {body.get('goodsId')!r} does not exist"))
    key = body.get("requestUniqueKey")
    if not isinstance(key, str) or not key:
        return emu.bad_params("requestUniqueKey is required")
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    previous = emu.stock_requests.get((shop.mall_id, key))
    if previous == digest:
        return envelope({"goodsId": body["goodsId"], "repeated": True}, now=emu.clock.now())
    if previous is not None:
        return emu.bad_params(f"requestUniqueKey {key} was used with another body")
    targets = body.get("skuStockTargetList")
    problem = _targets_problem(emu, targets, str(body["goodsId"]))
    if problem:
        emu.record_push("stock", shop.mall_id, False, {"goodsId": body["goodsId"], "body": body}, [problem])
        return emu.bad_params(problem)
    for target in targets:
        emu.stock[(shop.mall_id, str(target["skuId"]))] = target["stockTarget"]
        emu.record_push("stock", shop.mall_id, True, {
            "goodsId": str(body["goodsId"]), "skuId": str(target["skuId"]), "stockTarget": target["stockTarget"],
            "seller_sku": emu.listings.get(target["skuId"]).item.sku, "requestUniqueKey": key})
    emu.stock_requests[(shop.mall_id, key)] = digest
    return envelope({"goodsId": body["goodsId"]}, now=emu.clock.now())


def _targets_problem(emu: TemuEmulator, targets: Any, goods_id: str) -> str | None:
    if not isinstance(targets, list) or not targets:
        return "skuStockTargetList must be a non-empty list of {skuId, stockTarget}"
    for target in targets:
        if not isinstance(target, dict) or not emu.listings.belongs(target.get("skuId"), goods_id):
            return f"sku {target.get('skuId') if isinstance(target, dict) else target!r} is not a sku of the goods"
        value = target.get("stockTarget")
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_STOCK:
            return f"stockTarget of sku {target['skuId']} must be an integer from 0 to {MAX_STOCK}"
    return None


def sku_list(emu: TemuEmulator, request: Request) -> Response:
    shop = request.caller
    body = _body(request)
    listings = emu.listings.by_listing.get(str(body.get("goodsId")))
    if listings is None:
        return emu.error((E_BUSINESS, f"BUSINESS_EXCEPTION: goods {body.get('goodsId')!r} does not exist"))
    skus = [{"skuId": s.platform_sku, "goodsId": s.listing_id, "extCode": s.item.sku,
             "stock": emu.stock.get((shop.mall_id, s.platform_sku), 0)} for s in listings]
    return envelope({"skuList": skus, "total": len(skus)}, now=emu.clock.now())


# --- logistics ---------------------------------------------------------------------------------
def companies(emu: TemuEmulator, request: Request) -> Response:
    rows = [{"logisticsServiceProviderId": cid, "logisticsServiceProviderName": name} for cid, name in CARRIERS.items()]
    return envelope({"logisticsServiceProviderList": rows}, now=emu.clock.now())


def warehouses(emu: TemuEmulator, request: Request) -> Response:
    shop = request.caller
    rows = [{"warehouseId": emu.warehouse_id(shop.mall_id), "warehouseName": f"Mall {shop.mall_id} main",
             "status": 1}]
    return envelope({"warehouseList": rows}, now=emu.clock.now())


def shipment_confirm(emu: TemuEmulator, request: Request) -> Response:
    """Validate every package first, then apply them all: one call is accepted or refused whole."""
    shop = request.caller
    body = _business(_body(request))
    packages = body.get("sendRequestList")
    problem = _shape_problem(body.get("sendType"), packages)
    if problem is None:
        problem = next((p for p in (_package_problem(emu, shop, pkg) for pkg in packages) if p), None)
    if problem is not None:
        code, message = problem
        emu.record_push("tracking", shop.mall_id, False, {"body": body}, [message])
        return emu.error((code, message))
    now = emu.clock.now()
    for package in packages:
        number = str(package["trackingNumber"])
        emu.used_tracking[number] = shop.mall_id
        by_parent: dict[str, list[dict[str, Any]]] = {}
        for info in package["orderSendInfoList"]:
            by_parent.setdefault(info["parentOrderSn"], []).append(info)
        for sn, infos in by_parent.items():
            order = emu.orders[sn]
            units = _units(order, infos, now, emu)
            shipment = Shipment(units, CARRIERS[package["carrierId"]], number, f"{len(order.events)}-{number}")
            order.add_event(OrderEvent(EventKind.SHIPPED, now, now, shipment=shipment, source="push"))
        emu.record_push("tracking", shop.mall_id, True, {
            "sendType": body["sendType"], "carrierId": package["carrierId"], "carrier": CARRIERS[package["carrierId"]],
            "trackingNumber": number, "warehouseId": package["selfShippingWarehouseId"],
            "items": [{"parentOrderSn": i["parentOrderSn"], "orderSn": i["orderSn"], "quantity": i["quantity"]}
                      for i in package["orderSendInfoList"]]})
    return envelope({"assistantAgreementText": "", "warningMessage": []}, now=now)


def _shape_problem(send_type: Any, packages: Any) -> tuple[int, str] | None:
    if send_type not in (0, 1, 2) or isinstance(send_type, bool):
        return 3000000, "BAD_PARAMS: sendType must be 0, 1 or 2"
    if not isinstance(packages, list) or not packages or not all(isinstance(p, dict) for p in packages):
        return 3000000, "BAD_PARAMS: sendRequestList must be a non-empty list of packages"
    infos = [p.get("orderSendInfoList") for p in packages]
    if not all(isinstance(i, list) and i and all(isinstance(x, dict) for x in i) for i in infos):
        return 3000000, "BAD_PARAMS: every package needs a non-empty orderSendInfoList"
    parents = {x.get("parentOrderSn") for i in infos for x in i}
    if send_type == 0 and (len(packages) != 1 or len(parents) != 1):
        return 3000000, "BAD_PARAMS: sendType 0 is one parent order in one package"
    if send_type == 1 and len(parents) != 1:
        return 3000000, "BAD_PARAMS: sendType 1 is one parent order in several packages"
    if send_type == 2 and (len(packages) != 1 or len(parents) < 2):
        return 3000000, "BAD_PARAMS: sendType 2 is several parent orders in one package"
    return None


def _package_problem(emu: TemuEmulator, shop: Any, package: dict[str, Any]) -> tuple[int, str] | None:
    if package.get("carrierId") not in CARRIERS:
        return 3000000, f"BAD_PARAMS: carrierId {package.get('carrierId')!r} is not a logistics provider"
    number = package.get("trackingNumber")
    if not isinstance(number, str) or not number.strip():
        return 3000000, "BAD_PARAMS: trackingNumber is required"
    if number in emu.used_tracking:
        return E_TRACKING_USED, f"BUSINESS_EXCEPTION: tracking number {number} has already been used"
    if package.get("selfShippingWarehouseId") != emu.warehouse_id(shop.mall_id):
        return 3000000, "BAD_PARAMS: selfShippingWarehouseId is not a warehouse of the mall"
    now = emu.clock.now()
    for info in package["orderSendInfoList"]:
        problem = _info_problem(emu, shop, info, now)
        if problem:
            return E_BUSINESS, f"BUSINESS_EXCEPTION: {problem}"
    return None


def _info_problem(emu: TemuEmulator, shop: Any, info: dict[str, Any], now: Any) -> str | None:
    sn = info.get("parentOrderSn")
    order = emu.owned_order(shop, sn)
    if order is None:
        return f"order {sn!r} does not exist"
    if order.platform_fulfilled:
        return f"order {sn} is fulfilled by a cooperative warehouse"
    seen = emu.view(order, now)
    if seen.status not in (UN_SHIPPING, PARTIALLY_SHIPPED):
        return f"order {sn} has status {seen.status}"
    line = next((ln for ln in order.lines if child_order_sn(order, ln) == info.get("orderSn")), None)
    if line is None:
        return f"orderSn {info.get('orderSn')!r} is not a child of {sn}"
    if str(info.get("goodsId")) != GOODS_IDS[line.item.family]:
        return f"goodsId of {info['orderSn']} does not match"
    if str(info.get("skuId")) not in (SKU_IDS[line.item.sku], PRODUCT_SKU_IDS[line.item.sku]):
        return f"skuId of {info['orderSn']} does not match"
    quantity = info.get("quantity")
    left = line.quantity - seen.state.shipped_quantity(line.line_no)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= left:
        return f"quantity of {info['orderSn']} must be from 1 to {left} (unshipped)"
    return None


def _units(order: GeneratedOrder, infos: list[dict[str, Any]], now: Any, emu: TemuEmulator) -> tuple:
    shipped = emu.view(order, now).state.shipped
    units = []
    for info in infos:
        line = next(ln for ln in order.lines if child_order_sn(order, ln) == info["orderSn"])
        free = [(line.line_no, n) for n in range(1, line.quantity + 1) if (line.line_no, n) not in shipped]
        units.extend(free[:info["quantity"]])
    return tuple(units)
