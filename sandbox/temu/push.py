"""The TEMU emulator's write side: stock edits, carriers and warehouses, shipment confirmation.

``bg.local.goods.stock.edit`` (docs/platforms/temu.md) takes one of two forms per call: per SKU a
``stockTarget`` in ``skuStockTargetList`` (the stock becomes it) or a ``stockDiff`` in
``skuStockChangeList`` (stock += stockDiff); both at once is 150013003, a SKU twice 150013001, a stock
outside 0..1,000,000 150013002. ``requestUniqueKey`` is optional; once used, a request repeating it is not
applied again. A shipment confirmation names child orders and quantities per package; a tracking number
is accepted once. Accepted pushes change the world.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Protocol

from sandbox.core.demo_accounts import TemuCredentials
from sandbox.core.http_types import Request, Response
from sandbox.core.listings import ListingIndex
from sandbox.core.orders import EventKind, GeneratedOrder, OrderEvent, Shipment
from sandbox.core.server import EmulatorState
from sandbox.temu.shapes import (
    CARRIERS,
    GOODS_IDS,
    PARTIALLY_SHIPPED,
    PRODUCT_SKU_IDS,
    SKU_IDS,
    UN_SHIPPING,
    TemuView,
    child_order_sn,
    envelope,
)

MAX_STOCK = 1_000_000  # "Quantity must be between 0 and 1000000" (150013002)
E_BUSINESS = 2000000
E_BAD_PARAMS = 3000000
E_TRACKING_USED = 2000101  # [INFERRED] code: the published material only says a number succeeds once
E_SEMI_STOCK = 140020001  # the local goods API is for LOCAL malls; SEMI stock is TEMU's to manage
E_DUPLICATE_SKU = (150013001, "Duplicate SKUs detected. Please remove them and try again")
E_QUANTITY = (150013002, f"Quantity must be between 0 and {MAX_STOCK}")
E_ONE_METHOD = (150013003, "Only one stock adjustment method can be active at a time.")
FORMS = (("skuStockTargetList", "stockTarget"), ("skuStockChangeList", "stockDiff"))  # (list, per-SKU field)
NOT_BUSINESS = {"type", "app_key", "access_token", "timestamp", "data_type", "version", "sign"}


class TemuPushTarget(EmulatorState, Protocol):
    """What these handlers use of ``TemuEmulator`` (it satisfies this; importing it here would be a cycle)."""

    listings: ListingIndex
    stock: dict[tuple[str, str], int]
    presale_stock: dict[tuple[str, str], int]
    stock_requests: dict[tuple[str, str], tuple[str, dict[str, Any]]]
    used_tracking: dict[str, str]

    def warehouse_id(self, mall_id: str) -> str: ...
    def error(self, failure: tuple[int, str]) -> Response: ...
    def bad_params(self, message: str) -> Response: ...
    def view(self, order: GeneratedOrder, now: datetime) -> TemuView: ...
    def owned_order(self, shop: TemuCredentials, sn: Any) -> GeneratedOrder | None: ...


def _body(request: Request) -> dict[str, Any]:
    body = request.json()
    return body if isinstance(body, dict) else {}


def _business(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in NOT_BUSINESS}


# --- stock -------------------------------------------------------------------------------------
def stock_edit(emu: TemuPushTarget, request: Request) -> Response:
    shop = request.caller
    body = _business(_body(request))
    if shop.mall_type != "LOCAL":
        return emu.error((E_SEMI_STOCK, "does not support this mall type (LOCAL malls only)"))
    goods = str(body.get("goodsId"))
    if goods not in emu.listings.by_listing:
        return emu.error((E_BUSINESS, f"BUSINESS_EXCEPTION: goods {body.get('goodsId')!r} does not exist"))
    key = body.get("requestUniqueKey")
    if key is not None and (not isinstance(key, str) or not key):
        return emu.bad_params("requestUniqueKey must be a non-empty string when given")
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    previous = emu.stock_requests.get((shop.mall_id, key)) if key else None
    if previous is not None:  # a repeated key is not applied again; what TEMU answers is not published
        if previous[0] != digest:
            return emu.bad_params(f"requestUniqueKey {key} was used with another body")
        return envelope(previous[1], now=emu.clock.now())
    pool = emu.presale_stock if body.get("stockType") == 1 else emu.stock
    edits = _edits(emu, body, goods, pool, shop.mall_id)
    if isinstance(edits, tuple):
        emu.record_push("stock", shop.mall_id, False, {"goodsId": goods, "body": body}, [edits[1]])
        return emu.error(edits)
    for sku, level, diff in edits:
        pool[(shop.mall_id, sku)] = level
        emu.record_push("stock", shop.mall_id, True, {
            "goodsId": goods, "skuId": sku, "stockTarget": level, "stockDiff": diff,
            "stockType": body.get("stockType", 0), "seller_sku": emu.listings.get(sku).item.sku,
            "requestUniqueKey": key})
    result = {"goodsId": body["goodsId"], "operateResult": True, "msg": "",
              "skuStockEditStatusInfoList": [{"skuId": sku, "stockEditStatus": True, "errorCode": 1000000,
                                              "errorMsg": ""} for sku, _, _ in edits]}
    if key:
        emu.stock_requests[(shop.mall_id, key)] = (digest, result)
    return envelope(result, now=emu.clock.now())


def _edits(emu: TemuPushTarget, body: dict[str, Any], goods: str, pool: dict[tuple[str, str], int],
           mall: str) -> list[tuple[str, int, int | None]] | tuple[int, str]:
    """(skuId, new stock, stockDiff or None) per SKU, or the refusal (code, message) of the whole call.

    An empty list counts as absent (a public Java SDK sends both lists, one of them empty; unverified)."""
    if body.get("stockType", 0) not in (0, 1) or isinstance(body.get("stockType"), bool):
        return E_BAD_PARAMS, "BAD_PARAMS: stockType must be 0 (ordinary) or 1 (pre-sale)"
    given = [(name, field) for name, field in FORMS if body.get(name) not in (None, [])]
    if len(given) > 1:
        return E_ONE_METHOD
    if not given:
        return E_BAD_PARAMS, "BAD_PARAMS: skuStockTargetList or skuStockChangeList is required"
    name, field = given[0]
    entries = body[name]
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return E_BAD_PARAMS, f"BAD_PARAMS: {name} must be a list of {{skuId, {field}}}"
    skus = [str(e.get("skuId")) for e in entries]
    if len(set(skus)) != len(skus):
        return E_DUPLICATE_SKU
    edits = []
    for sku, entry in zip(skus, entries, strict=True):
        if not emu.listings.belongs(entry.get("skuId"), goods):
            return E_BAD_PARAMS, f"BAD_PARAMS: sku {entry.get('skuId')!r} is not a sku of the goods"
        value = entry.get(field)
        if not isinstance(value, int) or isinstance(value, bool):
            return E_BAD_PARAMS, f"BAD_PARAMS: {field} of sku {sku} must be an integer"
        diff = value if field == "stockDiff" else None
        level = pool.get((mall, sku), 0) + value if diff is not None else value
        if not 0 <= level <= MAX_STOCK:
            return E_QUANTITY
        edits.append((sku, level, diff))
    return edits


def sku_list(emu: TemuPushTarget, request: Request) -> Response:
    shop = request.caller
    body = _body(request)
    listings = emu.listings.by_listing.get(str(body.get("goodsId")))
    if listings is None:
        return emu.error((E_BUSINESS, f"BUSINESS_EXCEPTION: goods {body.get('goodsId')!r} does not exist"))
    skus = [{"skuId": s.platform_sku, "goodsId": s.listing_id, "extCode": s.item.sku,
             "stock": emu.stock.get((shop.mall_id, s.platform_sku), 0)} for s in listings]
    return envelope({"skuList": skus, "total": len(skus)}, now=emu.clock.now())


# --- logistics ---------------------------------------------------------------------------------
def companies(emu: TemuPushTarget, request: Request) -> Response:
    rows = [{"logisticsServiceProviderId": cid, "logisticsServiceProviderName": name} for cid, name in CARRIERS.items()]
    return envelope({"logisticsServiceProviderList": rows}, now=emu.clock.now())


def warehouses(emu: TemuPushTarget, request: Request) -> Response:
    shop = request.caller
    rows = [{"warehouseId": emu.warehouse_id(shop.mall_id), "warehouseName": f"Mall {shop.mall_id} main",
             "status": 1}]
    return envelope({"warehouseList": rows}, now=emu.clock.now())


def shipment_confirm(emu: TemuPushTarget, request: Request) -> Response:
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


def _package_problem(emu: TemuPushTarget, shop: Any, package: dict[str, Any]) -> tuple[int, str] | None:
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


def _info_problem(emu: TemuPushTarget, shop: Any, info: dict[str, Any], now: Any) -> str | None:
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


def _units(order: GeneratedOrder, infos: list[dict[str, Any]], now: Any, emu: TemuPushTarget) -> tuple:
    shipped = emu.view(order, now).state.shipped
    units = []
    for info in infos:
        line = next(ln for ln in order.lines if child_order_sn(order, ln) == info["orderSn"])
        free = [(line.line_no, n) for n in range(1, line.quantity + 1) if (line.line_no, n) not in shipped]
        units.extend(free[:info["quantity"]])
    return tuple(units)
