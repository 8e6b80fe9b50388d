"""The Amazon emulator's write side: MFN stock (Listings Items PATCH) and shipment confirmation.

Each push is validated the way docs/platforms/amazon.md describes, recorded with its normalised
content (``GET /_sandbox/pushed``) and, when accepted, applied to the world: stock is stored,
a confirmed shipment moves the order to Shipped or PartiallyShipped.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

from sandbox.amazon.shapes import MARKETPLACE_OF, ORDER_STATUS, errors, invalid, not_found, order_item_id
from sandbox.core.http_types import Request, Response
from sandbox.core.listings import ListingIndex
from sandbox.core.orders import EventKind, OrderEvent, Shipment, Unit
from sandbox.core.server import EmulatorState

LISTING_OPS = {"add", "replace", "merge", "delete"}
AVAILABILITY = "/attributes/fulfillment_availability"


class AmazonPushTarget(EmulatorState, Protocol):
    """What these handlers use of ``AmazonEmulator`` (it satisfies this; importing it here would be a cycle)."""

    listings: ListingIndex
    stock: dict[tuple[str, str], int]


def confirm_shipment(emu: AmazonPushTarget, request: Request) -> Response:
    oid = request.params["orderId"]
    order = emu.orders.get(oid)
    now = emu.clock.now()
    if order is None or order.account != request.caller.seller_id or not order.visible(now):
        return not_found(f"Order {oid}")
    try:
        body = request.json()
    except ValueError:
        return invalid("The request body is not valid JSON.")
    problem = _shipment_problem(body)
    if problem:
        return _rejected(emu, request, body, invalid(problem))
    detail = body["packageDetail"]
    if body["marketplaceId"] != MARKETPLACE_OF[order.country]:
        return _rejected(emu, request, body, invalid(f"marketplaceId {body['marketplaceId']} does not match the order."))
    state = order.state(now)
    if order.platform_fulfilled or ORDER_STATUS[state.status] not in ("Unshipped", "PartiallyShipped"):
        return _rejected(emu, request, body, errors(
            400, "InvalidInput", "The order is not in a state that allows shipment confirmation.",
            f"OrderStatus is {ORDER_STATUS[state.status]}, FulfillmentChannel is "
            f"{'AFN' if order.platform_fulfilled else 'MFN'}."))
    lines = {order_item_id(order, line.line_no): line for line in order.lines}
    units: list[Unit] = []
    for i, entry in enumerate(detail["orderItems"]):
        line = lines.get(entry["orderItemId"])
        if line is None:
            return _rejected(emu, request, body, invalid(
                f"packageDetail.orderItems[{i}].orderItemId {entry['orderItemId']} is not an item of {oid}."))
        free = [(line.line_no, n) for n in range(1, line.quantity + 1)
                if (line.line_no, n) not in state.shipped and (line.line_no, n) not in units]
        if entry["quantity"] > len(free):
            return _rejected(emu, request, body, invalid(
                f"packageDetail.orderItems[{i}].quantity {entry['quantity']} exceeds the {len(free)} unshipped "
                f"unit(s) of {entry['orderItemId']}."))
        units.extend(free[:entry["quantity"]])
    carrier = detail.get("carrierName") or detail["carrierCode"]
    shipment = Shipment(tuple(units), carrier, str(detail.get("trackingNumber", "")), detail["packageReferenceId"])
    order.add_event(OrderEvent(EventKind.SHIPPED, now, now, shipment=shipment, source="push"))
    emu.record_push("tracking", request.caller.seller_id, True, _shipment_content(oid, body))
    return Response(204)


def _shipment_problem(body: Any) -> str | None:
    """The first thing wrong with a shipmentConfirmation body, in the model's terms."""
    if not isinstance(body, dict):
        return "The request body must be a JSON object."
    if not isinstance(body.get("marketplaceId"), str) or not body["marketplaceId"]:
        return "marketplaceId is required."
    detail = body.get("packageDetail")
    if not isinstance(detail, dict):
        return "packageDetail is required."
    ref = detail.get("packageReferenceId")
    if not isinstance(ref, str) or not ref.isdigit() or int(ref) <= 0:
        return "packageDetail.packageReferenceId must be a positive numeric string."
    if not isinstance(detail.get("carrierCode"), str) or not detail["carrierCode"]:
        return "packageDetail.carrierCode is required."
    if detail["carrierCode"] == "Other" and not detail.get("carrierName"):
        return "packageDetail.carrierName is required when carrierCode is Other."
    if not isinstance(detail.get("trackingNumber"), str):  # PackageDetail.required in ordersV0.json (source A)
        return "packageDetail.trackingNumber is required."
    if not isinstance(detail.get("shipDate"), str) or _date(detail["shipDate"]) is None:
        return "packageDetail.shipDate must be an ISO 8601 date-time."
    items = detail.get("orderItems")
    if not isinstance(items, list) or not items:
        return "packageDetail.orderItems must list at least one item."
    for i, entry in enumerate(items):
        if not isinstance(entry, dict) or not isinstance(entry.get("orderItemId"), str):
            return f"packageDetail.orderItems[{i}].orderItemId is required."
        quantity = entry.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            return f"packageDetail.orderItems[{i}].quantity must be a positive integer."
    return None


def _shipment_content(oid: str, body: Any) -> dict[str, Any]:
    detail = body.get("packageDetail", {}) if isinstance(body, dict) else {}
    return {"amazon_order_id": oid, "marketplace_id": body.get("marketplaceId") if isinstance(body, dict) else None,
            "package_reference_id": detail.get("packageReferenceId"), "carrier_code": detail.get("carrierCode"),
            "carrier_name": detail.get("carrierName"), "shipping_method": detail.get("shippingMethod"),
            "tracking_number": detail.get("trackingNumber"), "ship_date": detail.get("shipDate"),
            "items": [{"order_item_id": e.get("orderItemId"), "quantity": e.get("quantity")}
                      for e in detail.get("orderItems", []) if isinstance(e, dict)]}


def _rejected(emu: AmazonPushTarget, request: Request, body: Any, response: Response) -> Response:
    content = _shipment_content(request.params["orderId"], body) if isinstance(body, dict) else {"body": body}
    emu.record_push("tracking", request.caller.seller_id, False, content, [response.body.decode()])
    return response


def patch_listings_item(emu: AmazonPushTarget, request: Request) -> Response:
    """Listings Items PATCH: structural errors are 400; attribute problems are 200 INVALID."""
    seller, sku = request.params["sellerId"], request.params["sku"]
    if seller != request.caller.seller_id:
        return errors(403, "Unauthorized", "Access to requested resource is denied.",
                      "The sellerId does not match the access token.")
    marketplaces = [m for v in request.query.get("marketplaceIds", []) for m in v.split(",") if m]
    if not marketplaces:
        return invalid("marketplaceIds is required.")
    try:
        body = request.json()
    except ValueError:
        return invalid("The request body is not valid JSON.")
    if not isinstance(body, dict) or not isinstance(body.get("productType"), str) or not body["productType"]:
        return invalid("productType is required.")
    patches = body.get("patches")
    if not isinstance(patches, list) or not patches:
        return invalid("patches must hold at least one patch.")
    for i, patch in enumerate(patches):
        if not isinstance(patch, dict) or patch.get("op") not in LISTING_OPS:
            return invalid(f"patches[{i}].op must be one of {sorted(LISTING_OPS)}.")
        if not isinstance(patch.get("path"), str) or not patch["path"].startswith("/attributes/"):
            return invalid(f"patches[{i}].path must name an attribute (/attributes/...).")
    issues, stock = [], []
    if emu.listings.get(sku) is None:
        issues.append(_issue("4000001", f"The SKU {sku} does not exist in the seller's catalogue.", []))
    for i, patch in enumerate(patches):
        if patch["path"] == AVAILABILITY:
            found, problems = _availability(patch, i)
            stock.extend(found)
            issues.extend(problems)
    preview = request.arg("mode") == "VALIDATION_PREVIEW"
    status = "INVALID" if issues else ("VALID" if preview else "ACCEPTED")
    content = {"seller_id": seller, "sku": sku, "marketplace_ids": marketplaces,
               "product_type": body["productType"], "availability": stock}
    if not preview:
        emu.record_push("stock", seller, not issues, content, issues)
        if not issues:
            for entry in stock:
                if entry["fulfillment_channel_code"] == "DEFAULT":  # AFN channels are Amazon's to count
                    emu.stock[(seller, sku)] = entry["quantity"]
    return Response.json(200, {"sku": sku, "status": status, "submissionId": uuid.uuid4().hex, "issues": issues})


def _availability(patch: dict[str, Any], index: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    values = patch.get("value")
    if patch["op"] == "delete":
        return [], []
    if not isinstance(values, list) or not values:
        return [], [_issue("90220", "'fulfillment_availability' is required but not supplied.",
                           ["fulfillment_availability"], "MISSING_ATTRIBUTE")]
    found, problems = [], []
    for j, value in enumerate(values):
        where = f"patches[{index}].value[{j}]"
        if not isinstance(value, dict) or not isinstance(value.get("fulfillment_channel_code"), str):
            problems.append(_issue("90220", f"{where}.fulfillment_channel_code is required but not supplied.",
                                   ["fulfillment_availability"], "MISSING_ATTRIBUTE"))
            continue
        quantity = value.get("quantity")
        if value["fulfillment_channel_code"] == "DEFAULT" and (
                not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0):
            problems.append(_issue("99001", f"{where}.quantity must be an integer >= 0, got {quantity!r}.",
                                   ["fulfillment_availability"]))
            continue
        found.append({"fulfillment_channel_code": value["fulfillment_channel_code"], "quantity": quantity,
                      "marketplace_id": value.get("marketplace_id"),
                      "lead_time_to_ship_max_days": value.get("lead_time_to_ship_max_days")})
    return found, problems


def _issue(code: str, message: str, attributes: list[str], category: str = "INVALID_ATTRIBUTE") -> dict[str, Any]:
    return {"code": code, "message": message, "severity": "ERROR", "attributeNames": attributes,
            "categories": [category]}


def _date(raw: str) -> datetime | None:
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        return None
