"""The TikTok emulator's write side: inventory, shipping providers, mark-as-shipped (202309 and 202610).

Validation follows docs/platforms/tiktok.md: inventory problems are per-SKU entries in ``data.errors``
under a ``code: 0`` envelope; packages must name unshipped line items (units) of the order. The two
mark-as-shipped versions differ only in how the request body names items and tracking, so each is read
into one ``PackageRequest`` and checked once. Every push is recorded with its normalised content
(the version included); accepted ones change the world.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sandbox.core.http_types import Request, Response
from sandbox.core.listings import ListingIndex
from sandbox.core.orders import EventKind, GeneratedOrder, OrderEvent, Shipment, Status
from sandbox.core.server import EmulatorState
from sandbox.tiktok.shapes import (
    ORDER_STATUS,
    SHIPPING_PROVIDERS,
    envelope,
    line_item_id,
    package_id,
    param_error,
)

MAX_STOCK = 99999  # 0..99999; an older copy of TikTok's page says "< 99999" (docs/platforms/tiktok.md)
TRACKING_MARKETS = {"US", "GB", "ES", "IE", "IT", "DE", "FR", "JP"}  # where mark-as-shipped exists


class TikTokPushTarget(EmulatorState, Protocol):
    """What these handlers use of ``TikTokEmulator`` (it satisfies this; importing it here would be a cycle)."""

    listings: ListingIndex
    stock: dict[tuple[str, str], int]

    def warehouse_id(self, shop_id: str) -> str: ...
    def error(self, failure: tuple[int, str], data: Any = None) -> Response: ...


def update_inventory(emu: TikTokPushTarget, request: Request) -> Response:
    shop = request.caller.shop
    product_id = request.params["product_id"]
    if product_id not in emu.listings.by_listing:
        return emu.error((12052032, "The product does not exist"))
    try:
        body = request.json()
    except ValueError:
        return param_error("body", "not valid JSON", "a JSON object")
    skus = body.get("skus") if isinstance(body, dict) else None
    if not isinstance(skus, list) or not skus:
        return param_error("skus", "missing or empty", "a list of {id, inventory}")
    if any(not isinstance(entry, dict) or not entry.get("id") for entry in skus):
        return emu.error((12052036, "The SKU ID is necessary"))
    warehouse = emu.warehouse_id(shop.shop_id)
    problems = []
    for entry in skus:
        error = _sku_error(entry, emu.listings.belongs(entry["id"], product_id), warehouse)
        listing = emu.listings.get(entry["id"])
        content = {"shop_id": shop.shop_id, "product_id": product_id, "sku_id": str(entry["id"]),
                   "seller_sku": listing.item.sku if listing else None, "inventory": entry.get("inventory")}
        if error:
            problems.append(error)
            emu.record_push("stock", shop.shop_id, False, content, [error])
            continue
        emu.record_push("stock", shop.shop_id, True, content)
        emu.stock[(shop.shop_id, str(entry["id"]))] = sum(i["quantity"] for i in entry["inventory"])
    return envelope({"errors": problems} if problems else {}, now=emu.clock.now())


def _sku_error(entry: dict[str, Any], of_product: bool, warehouse: str) -> dict[str, Any] | None:
    sku_id = str(entry["id"])
    if not of_product:
        return {"code": 12052557, "message": "The SKU ID does not belong to the product.",
                "detail": {"sku_id": sku_id, "extra_errors": []}}
    inventory = entry.get("inventory")
    if not isinstance(inventory, list) or not inventory:
        return {"code": 12019024, "message": "stock count is invalid", "detail": {"sku_id": sku_id, "extra_errors": []}}
    extra = []
    for stock in inventory:
        wid = stock.get("warehouse_id", warehouse) if isinstance(stock, dict) else None
        quantity = stock.get("quantity") if isinstance(stock, dict) else None
        if wid != warehouse:
            extra.append({"warehouse_id": wid, "code": 12052097, "message": "The warehouse does not exist"})
        elif not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 <= quantity <= MAX_STOCK:
            extra.append({"warehouse_id": wid, "code": 12019024, "message": "stock count is invalid"})
    if not extra:
        return None
    return {"code": extra[0]["code"], "message": extra[0]["message"],
            "detail": {"sku_id": sku_id, "extra_errors": extra}}


def shipping_providers(emu: TikTokPushTarget, request: Request) -> Response:
    """The carriers a delivery option offers (every sandbox option offers every carrier)."""
    providers = [{"id": pid, "name": name} for pid, name in SHIPPING_PROVIDERS.items()]
    return envelope({"shipping_providers": providers}, now=emu.clock.now())


@dataclass(frozen=True)
class PackageRequest:
    """A mark-as-shipped body of either version, read but not yet checked against the order."""

    line_item_ids: list[str]
    shipping_provider_id: Any
    tracking_number: Any


def _read_202309(body: Any) -> PackageRequest | Response:
    """``{order_line_item_ids[], shipping_provider_id, tracking_number}`` (docs/platforms/tiktok.md, J)."""
    if not isinstance(body, dict):
        return param_error("body", "not a JSON object", "a JSON object")
    ids = body.get("order_line_item_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        return param_error("order_line_item_ids", "missing or not a list of strings", "line item ids of the order")
    return PackageRequest(ids, body.get("shipping_provider_id"), body.get("tracking_number"))


def _read_202610(body: Any) -> PackageRequest | Response:
    """``{order_line_list[{order_line_id, sub_item_id?}], shipping_info_list[{tracking_number,
    shipping_provider_id, note?}]}``; one tracking number per call unless the seller is allow-listed, which
    no sandbox seller is (docs/platforms/tiktok.md: the 202610 shape is unverified)."""
    if not isinstance(body, dict):
        return param_error("body", "not a JSON object", "a JSON object")
    lines = body.get("order_line_list")
    if not isinstance(lines, list) or not lines or not all(
            isinstance(line, dict) and isinstance(line.get("order_line_id"), str) for line in lines):
        return param_error("order_line_list", "missing or without an order_line_id string per entry",
                           "line items of the order as {order_line_id}")
    infos = body.get("shipping_info_list")
    if not isinstance(infos, list) or len(infos) != 1 or not isinstance(infos[0], dict):
        return param_error("shipping_info_list", "missing, or more than one tracking number",
                           "exactly one {tracking_number, shipping_provider_id}")
    return PackageRequest([line["order_line_id"] for line in lines], infos[0].get("shipping_provider_id"),
                          infos[0].get("tracking_number"))


PACKAGE_BODIES = {"202309": _read_202309, "202610": _read_202610}


def mark_package_shipped(emu: TikTokPushTarget, request: Request, version: str) -> Response:
    shop = request.caller.shop
    oid = request.params["order_id"]
    order = emu.orders.get(oid)
    now = emu.clock.now()
    if order is None or order.account != shop.shop_id or not order.visible(now):
        return emu.error((21008111, "The order or package does not belong to the current seller."))
    try:
        body = request.json()
    except ValueError:
        return param_error("body", "not valid JSON", "a JSON object")
    read = PACKAGE_BODIES[version](body)
    if isinstance(read, Response):
        emu.record_push("tracking", shop.shop_id, False, {"order_id": oid, "version": version, "body": body},
                        [read.body.decode()])
        return read
    content = {"order_id": oid, "version": version, "order_line_item_ids": read.line_item_ids,
               "shipping_provider_id": read.shipping_provider_id, "tracking_number": read.tracking_number}
    rejection = _package_problem(oid, order, read, shop.region, now)
    if rejection is not None:
        emu.record_push("tracking", shop.shop_id, False, content, [rejection.body.decode()])
        return rejection
    wanted = set(read.line_item_ids)
    units = tuple(u for u in order.units() if line_item_id(order, u) in wanted)
    shipment = Shipment(units, SHIPPING_PROVIDERS[read.shipping_provider_id], read.tracking_number,
                        f"{len(order.events)}-{read.tracking_number}")
    order.add_event(OrderEvent(EventKind.SHIPPED, now, now, shipment=shipment, source="push"))
    emu.record_push("tracking", shop.shop_id, True, content)
    return envelope({"order_id": oid, "order_line_item_ids": read.line_item_ids,
                     "package_id": package_id(order, shipment)}, now=now)


def _package_problem(oid: str, order: GeneratedOrder, read: PackageRequest, region: str,
                     now: datetime) -> Response | None:
    ids = read.line_item_ids
    if read.shipping_provider_id not in SHIPPING_PROVIDERS:
        return param_error("shipping_provider_id", f"unknown provider {read.shipping_provider_id!r}",
                           "an id from the delivery option's shipping providers")
    if not isinstance(read.tracking_number, str) or not read.tracking_number.strip():
        return param_error("tracking_number", "missing or empty", "the carrier's tracking number")
    if region not in TRACKING_MARKETS:
        return param_error("shop region", f"mark package as shipped is not available in {region}",
                           f"a shop in one of {sorted(TRACKING_MARKETS)}")
    state = order.state(now)
    if order.platform_fulfilled:
        return param_error("order_id", "the order is fulfilled by TikTok", "a FULFILLMENT_BY_SELLER order")
    if state.status not in (Status.READY, Status.PARTIALLY_SHIPPED):
        return param_error("order_id", f"order status is {ORDER_STATUS[state.status]}",
                           "AWAITING_SHIPMENT or PARTIALLY_SHIPPING")
    units = {line_item_id(order, u): u for u in order.units()}
    for item_id in ids:
        if item_id not in units:
            return param_error("order_line_item_ids", f"{item_id} is not a line item of {oid}",
                               "line item ids of this order")
        if units[item_id] in state.shipped:
            return param_error("order_line_item_ids", f"{item_id} is already shipped", "unshipped line items")
    if len(set(ids)) != len(ids):
        return param_error("order_line_item_ids", "duplicate ids", "each line item once")
    return None

