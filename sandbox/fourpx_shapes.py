"""4PX wire shapes: the `{result, msg, errors, data}` envelope, error codes, outbound orders.

4PX publishes no error-code table (docs/platforms/fourpx.md), so the codes here are our choice: six-digit
strings, `1001xx` for the router (signature, app key, system parameters) and `2001xx` for the
fulfilment methods. Messages avoid leaking the secret and name the offending field or reference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sandbox.server import Response

# --- router errors (system parameters, signature) ----------------------------------------------
E_MISSING = "100101"  # a system parameter is missing
E_APP_KEY = "100102"  # unknown app_key
E_SIGN = "100103"  # sign does not match
E_TIMESTAMP = "100104"  # timestamp not in ms, or too far from now
E_METHOD = "100105"  # unknown method
E_VERSION = "100106"  # v other than 1.0 / 1.0.0
E_FORMAT = "100107"  # format other than json
E_BODY = "100108"  # body is not a JSON object
E_THROTTLED = "100429"  # only when a rate limit is configured (4PX documents none)
E_SYSTEM = "100500"  # injected 5xx
# --- business errors -----------------------------------------------------------------------------
E_PARAM = "200101"  # a required field is missing or invalid
E_DUPLICATE_REF = "200102"  # ref_no already used by another outbound order
E_WAREHOUSE = "200103"  # unknown from_warehouse_code / warehouse_code
E_SKU = "200104"  # SKU never set up for this customer
E_NOT_FOUND = "200105"  # no outbound order with that number / ref_no
E_SHIPPED = "200106"  # cancel refused: already shipped
E_CLOSED = "200107"  # cancel refused: already cancelled or deleted
E_RANGE = "200108"  # a time range longer than 30 days

STATUSES = ("N", "S", "P", "C", "X", "D", "E")
SUB_STATUSES = ("G", "B", "R", "S")
CONSIGNMENT_TYPES = ("S", "DS", "R", "D", "P", "O")
CANCEL_TYPES = ("AP", "RO", "OS", "BC", "CF", "OT")
STOCK_QUALITIES = ("G", "B")
VERSIONS = ("1.0", "1.0.0")
MAX_RANGE_MS = 30 * 86400 * 1000
RECIPIENT_FIELDS = ("country", "state", "city", "district", "post_code", "street", "house_number", "company",
                    "last_name", "first_name", "phone", "email")
HEADER_FIELDS = ("sales_platform", "seller_id", "sales_no", "shop_id", "remark", "currency", "insure_value")


class Rejected(Exception):
    """A call 4PX answers with `result: "0"`; carries the code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def ok(data: Any) -> Response:
    return Response.json(200, {"result": "1", "msg": "Success", "errors": [], "data": data})


def error(code: str, message: str, *, status: int = 200) -> Response:
    """Business and router errors both come back as HTTP 200 with `result: "0"`."""
    return Response.json(status, {"result": "0", "msg": message, "data": None, "errors": [
        {"error_code": code, "error_msg": message, "error_data": None, "referenceCode": None}]})


def ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


@dataclass
class Outbound:
    """One outbound order (出库委托) as the WMS holds it."""

    consignment_no: str
    tracking_no: str  # the 4PX tracking number, known at creation
    ref_no: str
    warehouse: str
    lines: list[tuple[str, int]]
    quality: str
    request: dict[str, Any]  # the create body as received (recipient, logistics, header fields)
    created_at: datetime
    weight_g: int = 0
    status: str = "S"
    sub_status: str = ""
    reserved: bool = False  # holds pending stock in its warehouse
    updated_at: datetime | None = None
    picked_at: datetime | None = None
    completed_at: datetime | None = None
    carrier_code: str = ""
    shipping_no: str = ""  # the last-mile carrier's tracking number, known once shipped
    history: list[tuple[str, datetime]] = field(default_factory=list)

    def move(self, status: str, when: datetime, sub_status: str = "") -> None:
        self.status, self.sub_status, self.updated_at = status, sub_status, when
        self.history.append((status + (f"/{sub_status}" if sub_status else ""), when))

    @property
    def open(self) -> bool:
        return self.status in ("N", "S", "P")


def render_outbound(out: Outbound) -> dict[str, Any]:
    """An item of `fu.wms.outbound.getlist` (docs/platforms/fourpx.md, Outbound VO field names)."""
    req = out.request
    logistics = req.get("logistics_service_info") or {}
    recipient = req.get("oconsignment_desc") or {}
    item: dict[str, Any] = {
        "consignment_no": out.consignment_no, "4px_tracking_no": out.tracking_no, "ref_no": out.ref_no,
        "from_warehouse_code": out.warehouse, "consignment_type": req.get("consignment_type"),
        "status": out.status, "sub_status": out.sub_status,
        "logistics_product_code": logistics.get("logistics_product_code"),
        "signature_service": logistics.get("signature_service", "N"),
        "shipping_no": out.shipping_no, "carrier_code": out.carrier_code, "total_weight": str(out.weight_g),
        "create_time": ms(out.created_at), "update_time": ms(out.updated_at or out.created_at),
        "complete_time": ms(out.completed_at),
        "outboundlist_sku": [{"sku_code": sku, "qty": qty, "stock_quality": out.quality} for sku, qty in out.lines],
        "consignment_packages": [] if out.status != "C" else [{
            "consignment_no": out.consignment_no, "package_type": "P", "package_weight": out.weight_g,
            "shipped_weight": out.weight_g, "length": None, "width": None, "height": None}],
    }
    item.update({name: recipient.get(name, "") for name in RECIPIENT_FIELDS})
    item.update({name: req.get(name) for name in HEADER_FIELDS if name in req})
    return item


# --- request validation --------------------------------------------------------------------------
def parse_body(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw.decode("utf-8")) if raw else {}
    except (UnicodeDecodeError, ValueError) as exc:
        raise Rejected(E_BODY, f"request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise Rejected(E_BODY, "request body must be a JSON object")
    return body


def text(body: dict[str, Any], name: str, *, required: bool = True, max_length: int = 0) -> str:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise Rejected(E_PARAM, f"{name} is required")
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise Rejected(E_PARAM, f"{name} must be a string")
    value = str(value)
    if max_length and len(value) > max_length:
        raise Rejected(E_PARAM, f"{name} is longer than {max_length} characters")
    return value


def integer(body: dict[str, Any], name: str, default: int | None = None, *, low: int = 0,
            high: int | None = None) -> int | None:
    value = body.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).lstrip("-").isdigit():
        raise Rejected(E_PARAM, f"{name} must be an integer")
    number = int(value)
    if number < low or (high is not None and number > high):
        raise Rejected(E_PARAM, f"{name} must be between {low} and {high}" if high else f"{name} must be >= {low}")
    return number


def outbound_lines(body: dict[str, Any]) -> tuple[list[tuple[str, int]], str]:
    """`oconsignment_sku` as merged (sku, qty) lines plus the one stock quality they draw from."""
    skus = body.get("oconsignment_sku")
    if not isinstance(skus, list) or not skus:
        raise Rejected(E_PARAM, "oconsignment_sku is required (1 to 100 SKUs)")
    if len(skus) > 100:
        raise Rejected(E_PARAM, f"oconsignment_sku holds {len(skus)} SKUs; at most 100")
    merged: dict[str, int] = {}
    qualities = set()
    for n, line in enumerate(skus):
        if not isinstance(line, dict):
            raise Rejected(E_PARAM, f"oconsignment_sku[{n}] must be an object")
        sku = text(line, "sku_code")
        qty = integer(line, "qty", low=1)
        if qty is None:
            raise Rejected(E_PARAM, f"oconsignment_sku[{n}].qty is required")
        quality = text(line, "stock_quality")
        if quality not in STOCK_QUALITIES:
            raise Rejected(E_PARAM, f"oconsignment_sku[{n}].stock_quality must be G or B, got {quality!r}")
        qualities.add(quality)
        merged[sku] = merged.get(sku, 0) + qty
    if len(qualities) > 1:
        raise Rejected(E_PARAM, "all SKUs of one outbound order must draw the same stock_quality")
    return list(merged.items()), qualities.pop()


def check_create(body: dict[str, Any]) -> None:
    """Header and recipient checks of `fu.wms.outbound.create` (docs/platforms/fourpx.md)."""
    text(body, "ref_no", max_length=50)
    text(body, "from_warehouse_code")
    if text(body, "consignment_type") not in CONSIGNMENT_TYPES:
        raise Rejected(E_PARAM, f"consignment_type must be one of {', '.join(CONSIGNMENT_TYPES)}")
    logistics = body.get("logistics_service_info")
    if not isinstance(logistics, dict):
        raise Rejected(E_PARAM, "logistics_service_info is required")
    text(logistics, "logistics_product_code")
    if logistics.get("signature_service", "N") not in ("Y", "N"):
        raise Rejected(E_PARAM, "logistics_service_info.signature_service must be Y or N")
    recipient = body.get("oconsignment_desc")
    if not isinstance(recipient, dict):
        raise Rejected(E_PARAM, "oconsignment_desc (recipient) is required")
    country = text(recipient, "country")
    if len(country) != 2 or not country.isalpha() or not country.isupper():
        raise Rejected(E_PARAM, f"oconsignment_desc.country must be an ISO 3166 alpha-2 code, got {country!r}")
    for name in ("city", "street"):
        text(recipient, name)
    if not (recipient.get("first_name") or recipient.get("last_name")):
        raise Rejected(E_PARAM, "oconsignment_desc needs first_name or last_name")


def time_window(body: dict[str, Any], prefix: str) -> tuple[int | None, int | None]:
    """`<prefix>_start` / `<prefix>_end` in ms, refused when longer than 30 days (docs/platforms/fourpx.md)."""
    start, end = integer(body, f"{prefix}_start"), integer(body, f"{prefix}_end")
    if start is not None and end is not None:
        if end < start:
            raise Rejected(E_PARAM, f"{prefix}_end is before {prefix}_start")
        if end - start > MAX_RANGE_MS:
            raise Rejected(E_RANGE, f"{prefix} range exceeds 30 days")
    return start, end


def page(body: dict[str, Any], rows: list[dict[str, Any]], *, default: int = 50, maximum: int = 500) -> dict[str, Any]:
    """The FopPage shape `{page_no, page_size, total, data}`; a page_size over the maximum is refused."""
    page_no = integer(body, "page_no", 1, low=1)
    size = integer(body, "page_size", default, low=1, high=maximum)
    assert page_no is not None and size is not None
    return {"page_no": page_no, "page_size": size, "total": len(rows),
            "data": rows[(page_no - 1) * size: page_no * size]}
