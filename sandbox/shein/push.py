"""The SHEIN emulator's write side and its lookups: inventory, stock query, warehouses, carriers, tracking.

Validation follows docs/platforms/shein.md: inventory problems are per-SKU entries in ``info.failedList``
under a ``code: "0"`` envelope; tracking is set per goodsId (per unit), each entry naming a carrier
from express-channel and a format-checked tracking number. Every push is recorded; accepted ones
change the world (stock levels, SHIPPED events for exactly the units named).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from typing import Any, Protocol

from sandbox.core.http_types import Request, Response
from sandbox.core.listings import ListingIndex
from sandbox.core.orders import EventKind, GeneratedOrder, OrderEvent, OrderState, Shipment
from sandbox.core.server import EmulatorState
from sandbox.shein.shapes import CARRIERS, E_ORDER, SKU_CODES, envelope, goods_id, param_error

MAX_SKUS = 100
MAX_EXPRESS_ENTRIES = 100
TRACKING_FORMAT = re.compile(r"^[A-Za-z0-9-]{8,40}$")  # SHEIN "format-validates" expressCode [INFERRED rule]
UPSERT, DELETE = 2, 1


class SheinPushTarget(EmulatorState, Protocol):
    """What these handlers use of ``SheinEmulator`` (it satisfies this; importing it here would be a cycle)."""

    listings: ListingIndex
    stock: dict[tuple[str, str], int]

    def warehouse_code(self, open_key_id: str) -> str: ...
    def listed(self, order: GeneratedOrder, now: datetime) -> OrderState | None: ...
    def status_of(self, oid: str, order: GeneratedOrder, state: OrderState) -> tuple[int, datetime]: ...


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def change_inventory(emu: SheinPushTarget, request: Request) -> Response:
    shop = request.caller
    entries = _body(request).get("updateSkuInventoryQuantityRequests")
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_SKUS:
        return param_error(f"updateSkuInventoryQuantityRequests must hold 1 to {MAX_SKUS} SKUs")
    warehouse = emu.warehouse_code(shop.open_key_id)
    succeeded, failed = [], []
    for entry in entries:
        entry = entry if isinstance(entry, dict) else {}
        sku_code = str(entry.get("skuCode", ""))
        problem = _inventory_problem(emu, shop.open_key_id, entry, warehouse)
        listing = emu.listings.get(sku_code)
        content = {"skuCode": sku_code, "warehouseCode": entry.get("warehouseCode"),
                   "sellerSku": listing.item.sku if listing else None, "saleInventory": entry.get("saleInventory"),
                   "changeInventoryQuantity": entry.get("changeInventoryQuantity")}
        if problem is not None:
            failed.append({"skuCode": sku_code, "reason": problem[1], "code": problem[0]})
            emu.record_push("stock", shop.open_key_id, False, content, [problem[1]])
            continue
        key = (shop.open_key_id, sku_code)
        if "saleInventory" in entry:
            emu.stock[key] = entry["saleInventory"]
        else:
            emu.stock[key] = emu.stock.get(key, 0) + entry["changeInventoryQuantity"]
        succeeded.append({"skuCode": sku_code})
        emu.record_push("stock", shop.open_key_id, True, content)
    return envelope({"successList": succeeded, "failedList": failed})


def _inventory_problem(emu: SheinPushTarget, account: str, entry: dict[str, Any],
                       warehouse: str) -> tuple[str, str] | None:
    sku_code = entry.get("skuCode")
    if not isinstance(sku_code, str) or emu.listings.get(sku_code) is None:
        return "msc-update-stock-001", "skuCode does not exist"
    if entry.get("warehouseCode") != warehouse:
        return "msc-update-stock-002", "warehouseCode does not belong to the seller"
    has_absolute, has_delta = "saleInventory" in entry, "changeInventoryQuantity" in entry
    if has_absolute == has_delta:
        return "msc-update-stock-003", "exactly one of changeInventoryQuantity and saleInventory is required"
    value = entry["saleInventory"] if has_absolute else entry["changeInventoryQuantity"]
    if not isinstance(value, int) or isinstance(value, bool):
        return "msc-update-stock-004", "inventory quantity must be an integer"
    result = value if has_absolute else emu.stock.get((account, sku_code), 0) + value
    if result < 0:
        return "msc-update-stock-004", "inventory cannot become negative"
    return None


def stock_query(emu: SheinPushTarget, request: Request) -> Response:
    codes = _body(request).get("skuCodeList")
    if not isinstance(codes, list) or not 1 <= len(codes) <= MAX_SKUS:
        return param_error(f"skuCodeList must hold 1 to {MAX_SKUS} skuCodes")
    account = request.caller.open_key_id
    warehouse = emu.warehouse_code(account)
    skus = []
    for code in codes:
        if not isinstance(code, str) or emu.listings.get(code) is None:
            continue
        units = emu.stock.get((account, code), 0)
        skus.append({"skuCode": code, "totalInventoryQuantity": units, "totalLockedQuantity": 0,
                     "totalUsableInventory": units, "totalTempLockQuantity": 0,
                     "warehouseInventoryList": [{"warehouseCode": warehouse, "inventoryQuantity": units,
                                                 "lockedQuantity": 0, "usableInventory": units,
                                                 "tempLockQuantity": 0}]})
    return envelope([{"goodsInventory": [{"spuName": "", "skcName": "", "skuList": skus}]}])


def warehouse_list(emu: SheinPushTarget, request: Request) -> Response:
    shop = request.caller
    return envelope({"list": [{"warehouseCode": emu.warehouse_code(shop.open_key_id),
                               "warehouseName": "Orderhub demo warehouse", "warehouseType": 3,
                               "saleCountryList": list(shop.countries)}]})


def express_channel(emu: SheinPushTarget, request: Request) -> Response:
    """The carriers tracking may name [INFERRED shape: SHEIN documents only that the list exists]."""
    return envelope([{"expressIdCode": code, "expressName": name, "expressChannelCode": ""}
                     for code, name in CARRIERS.items()])


def import_express(emu: SheinPushTarget, request: Request) -> Response:
    """Set tracking per goodsId; the units named ship (grouped per tracking number into parcels)."""
    shop = request.caller
    body = _body(request)
    oid = body.get("orderNo")
    now = emu.clock.now()
    order = emu.orders.get(oid) if isinstance(oid, str) else None
    state = emu.listed(order, now) if order is not None and order.account == shop.open_key_id else None
    content = {"orderNo": oid, "infoList": body.get("infoList")}
    if state is None:
        return _refuse(emu, shop.open_key_id, content, envelope(None, *E_ORDER))
    units = {goods_id(order, u): u for u in order.units()}
    problem = _express_problem(body.get("infoList"), units, state.shipped, order.platform_fulfilled)
    if problem is None:
        status, _ = emu.status_of(oid, order, state)
        if status not in (1, 2):
            problem = f"order status {status} cannot take tracking"
    if problem is not None:
        return _refuse(emu, shop.open_key_id, content, param_error(problem))
    parcels: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for entry in body["infoList"]:
        parcels[(entry["expressCode"], entry["expressIdCode"])].append(units[int(entry["goodsId"])])
    for (tracking, carrier_code), parcel_units in parcels.items():
        shipment = Shipment(tuple(parcel_units), CARRIERS[carrier_code], tracking, f"{len(order.events)}-{tracking}")
        order.add_event(OrderEvent(EventKind.SHIPPED, now, now, shipment=shipment, source="push"))
    emu.record_push("tracking", shop.open_key_id, True, content)
    return envelope({"orderNo": oid, "successCount": len(body["infoList"])})


def _refuse(emu: SheinPushTarget, account: str, content: dict[str, Any], response: Response) -> Response:
    emu.record_push("tracking", account, False, content, [response.body.decode()])
    return response


def _express_problem(entries: Any, units: dict[int, Any], shipped: dict[Any, Any], by_shein: bool) -> str | None:
    if by_shein:
        return "the order is fulfilled by SHEIN"
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_EXPRESS_ENTRIES:
        return f"infoList must hold 1 to {MAX_EXPRESS_ENTRIES} entries"
    seen = set()
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            return f"infoList[{i}] is not an object"
        goods = entry.get("goodsId")
        if not isinstance(goods, int) or isinstance(goods, bool) or goods not in units:
            return f"infoList[{i}].goodsId is not a goods row of this order"
        if goods in seen:
            return f"infoList[{i}].goodsId appears twice"
        seen.add(goods)
        if units[goods] in shipped:
            return f"infoList[{i}].goodsId is already shipped"
        if entry.get("status", UPSERT) != UPSERT:
            return f"infoList[{i}].status: only 2 (add or update) is supported by the sandbox"
        if entry.get("expressIdCode") not in CARRIERS:
            return f"infoList[{i}].expressIdCode is not a carrier from express-channel"
        if not isinstance(entry.get("expressCode"), str) or not TRACKING_FORMAT.match(entry["expressCode"]):
            return f"infoList[{i}].expressCode has an invalid tracking number format"
    return None


def known_sku_codes() -> dict[str, str]:
    """seller SKU -> SHEIN skuCode of the default catalogue (``SheinEmulator.stock_listings`` for any other)."""
    return dict(SKU_CODES)
