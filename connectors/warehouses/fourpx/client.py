"""4PX overseas-warehouse WMS client: one signed router endpoint, methods named in the query.

Signature: md5("app_key"+key+"format"+"json"+"method"+m+"timestamp"+ms+"v"+v + body + secret),
lowercase hex, over the exact body bytes sent. Envelope `{result:"1"|"0", msg, errors[], data}`.
Statuses: N draft, S in progress, P picked, C shipped, X cancelled, D deleted, E exception.
4PX publishes no call that changes an outbound order once created (docs/platforms/fourpx.md).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from config.schema import WarehouseConfig
from connectors.http import Transport
from connectors.paging import numbered_pages
from connectors.ratelimit import RateLimiter
from connectors.responses import Action, Reading, Responses, Row, fixed_wait
from connectors.warehouses.limits import warehouse_limits
from connectors.warehouses.outbound import NOT_FOUND, PICKED, cancel_once, submit_once
from orderhub.runtime.logs import register_secret
from pipeline.address_changes import same_text
from pipeline.model import StockLevel
from pipeline.ports import AddressUpdate, Limit, OutboundLine, OutboundRequest, OutboundStatus
from pipeline.stages import OutboundState

ROUTER = "/router/api/service"
PRODUCTION = "https://open.4px.com"
VERSION = "1.0"
# 4PX publishes no limits; keep a steady, modest pace per app key.
DEFAULT_LIMITS = {"*": Limit(10.0, 10)}
AUTH_HINTS = ("sign", "app_key", "appkey", "token", "auth")
STATE = {"N": OutboundState.OPEN, "S": OutboundState.OPEN, "P": OutboundState.OPEN, "C": OutboundState.SHIPPED,
         "X": OutboundState.CANCELLED, "D": OutboundState.CANCELLED, "E": OutboundState.EXCEPTION}
PAGE = 200
OUTBOUND_PAGE = 500  # the outbound list's maximum: a burst of shipments is read in fewer calls
MAX_RANGE = timedelta(days=29)
# The consignee fields of an outbound list item that decide where the parcel goes (source I).
DESTINATION = ("country", "state", "city", "district", "post_code", "street", "house_number", "company",
               "first_name", "last_name")
NO_UPDATE = ("not sent: 4PX publishes no call that changes an outbound order's address (its fu.wms outbound "
             "methods create, cancel and list); only cancelling it (cancel_type AP) and creating it again would")


def sign(app_key: str, method: str, timestamp: str, body: bytes, app_secret: str) -> str:
    head = f"app_key{app_key}formatjsonmethod{method}timestamp{timestamp}v{VERSION}".encode()
    return hashlib.md5(head + body + app_secret.encode()).hexdigest()


def read_envelope(body: Any) -> Reading:
    """`{result: "1"|"0", msg, errors[{error_code, error_msg}]}`. 4PX has no credential codes: a refusal
    whose message names the signature, key or token (AUTH_HINTS) is one, unless it is about a reference."""
    if not isinstance(body, dict):
        return Reading()
    if str(body.get("result")) == "1":
        return Reading(Action.OK)
    error = (body.get("errors") or [{}])[0]
    message = str(error.get("error_msg") or body.get("msg") or "")
    said = message.lower()
    auth = any(hint in said for hint in AUTH_HINTS) and "ref" not in said
    return Reading(Action.AUTH if auth else Action.REJECTED, str(error.get("error_code", "")), message)


classify = Responses(
    read=read_envelope,
    # A throttle or an outage is the gateway's, whatever envelope came with it: said in our words.
    statuses={429: Row(Action.RATE_LIMITED, "4PX throttled", fixed=True),
              "5xx": Row(Action.RETRYABLE, "4PX unavailable", fixed=True)},
    # Differs from the default table: 4PX answers every call with its JSON envelope, credential refusals
    # included; anything else (a proxy's error page, a cut-off body) is a passing fault, tried again
    # whatever its status, an HTTP 401/403 included.
    silent=Row(Action.RETRYABLE, "4PX answered no JSON", fixed=True),
    hint=fixed_wait(1.0),  # 4PX documents no limits and no wait header: a second
)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class FourPXClient:
    bounds_shipment_reads = True

    def __init__(self, warehouse: WarehouseConfig, secrets: Mapping[str, str], limiter: RateLimiter) -> None:
        self.warehouse = warehouse
        self.app_key = secrets["app_key"]
        self._app_secret = secrets["app_secret"]
        for value in (self.app_key, self._app_secret):  # the key travels in every URL (urllib3 logs those)
            register_secret(value)
        self.base = (warehouse.base_url or PRODUCTION).rstrip("/")
        self.warehouse_code = warehouse.options.get("warehouse_code", warehouse.id)
        self.logistics_product = warehouse.options.get("logistics_product_code", "")
        self.transport = Transport("fourpx", warehouse.id, self.app_key, limiter,
                                   warehouse_limits(warehouse, DEFAULT_LIMITS), timeout=(5.0, 20.0))

    def _call(self, method: str, body: dict[str, Any], *, attempts: int | None = None) -> Any:
        raw = orjson.dumps(body)

        def build() -> dict[str, Any]:
            timestamp = str(int(time.time() * 1000))
            params = {"method": method, "app_key": self.app_key, "v": VERSION, "timestamp": timestamp,
                      "format": "json", "sign": sign(self.app_key, method, timestamp, raw, self._app_secret)}
            return {"method": "POST", "url": self.base + ROUTER, "params": params, "data": raw,
                    "headers": {"content-type": "application/json"}}

        _, reply = self.transport.call(method, build, classify, attempts=attempts)
        return reply.get("data")

    # -- outbound orders ---------------------------------------------------------------------

    def submit(self, request: OutboundRequest) -> OutboundStatus:
        body = {
            "ref_no": request.reference,
            "from_warehouse_code": self.warehouse_code,
            "consignment_type": "S",
            "logistics_service_info": {"logistics_product_code": request.shipping_method or self.logistics_product,
                                       "signature_service": "N"},
            "oconsignment_desc": consignee(request.ship_to),
            "oconsignment_sku": [{"sku_code": line.seller_sku, "qty": line.quantity, "stock_quality": "G"}
                                 for line in request.lines],
            "sales_platform": request.platform[:2].upper(),
            "sales_no": request.external_id,
            "currency": request.currency,
        }

        def create() -> OutboundStatus:
            data = self._call("fu.wms.outbound.create", body, attempts=1) or {}
            return OutboundStatus(reference=request.reference, remote_id=str(data.get("consignment_no", "")),
                                  state=OutboundState.OPEN, lines=request.lines)

        return submit_once(create, self.find, request.reference)

    def find(self, reference: str) -> OutboundStatus | None:
        item = self._item(reference)
        return _status(item) if item else None

    def _item(self, reference: str) -> dict[str, Any] | None:
        data = self._call("fu.wms.outbound.getlist", {"ref_no": reference, "page_no": 1, "page_size": 10}) or {}
        items = [i for i in data.get("data", []) if isinstance(i, dict) and i.get("ref_no") == reference]
        return items[0] if items else None

    def update_address(self, reference: str, ship_to: Any) -> AddressUpdate:
        """Nothing to send: no published 4PX method changes an outbound order's consignee (sources A, G, H
        list create, cancel and getlist only). The outbound is looked up so the answer carries its state;
        it counts as applied only when 4PX's own copy (the list item's consignee, source I) already is
        the new address."""
        item = self._item(reference)
        if item is None:
            return AddressUpdate(reference=reference, applied=False, state=NOT_FOUND,
                                 detail="4PX has no outbound order with this ref_no")
        code = str(item.get("status", ""))
        state = PICKED if code == "P" else STATE.get(code, OutboundState.OPEN)
        wanted = consignee(ship_to)
        if all(same_text(item.get(field), wanted[field]) for field in DESTINATION):
            return AddressUpdate(reference=reference, applied=True, state=state,
                                 detail="4PX already ships to this address")
        return AddressUpdate(reference=reference, applied=False, state=state, detail=NO_UPDATE)

    def cancel(self, reference: str) -> OutboundStatus:
        return cancel_once(self.find, lambda current: self._call(
            "fu.wms.outbound.cancel", {"ref_no": reference, "consignment_no": current.remote_id}),
            reference, warehouse="4PX")

    def shipments_since(self, since: datetime, until: datetime | None = None) -> list[OutboundStatus]:
        # 4PX caps a completion-time range at 30 days; with no `until`, bounding by that, not by our
        # clock, also keeps a warehouse whose clock runs ahead of ours from hiding fresh shipments.
        end = min(until, since + MAX_RANGE) if until else since + MAX_RANGE
        query = {"complete_time_start": _ms(since), "complete_time_end": _ms(end),
                 "page_size": OUTBOUND_PAGE}

        def fetch(number: int) -> tuple[list[dict[str, Any]], int]:
            data = self._call("fu.wms.outbound.getlist", query | {"page_no": number}) or {}
            return data.get("data", []), int(data.get("total", 0))

        # One 4PX account may run several of our warehouses: keep this warehouse's outbound orders only.
        pages = numbered_pages(fetch, page_size=OUTBOUND_PAGE, what="4PX outbound list")
        found = [_status(i) for page in pages for i in page
                 if i.get("warehouse_code", self.warehouse_code) == self.warehouse_code]
        return [s for s in found if s.state in (OutboundState.SHIPPED, OutboundState.EXCEPTION)]

    def inventory(self) -> list[StockLevel]:
        """Units in the warehouse not yet shipped: available plus those held for open outbound orders
        (our own reservations cover the latter, so the ledger must not count them out twice)."""
        now = datetime.now(UTC)

        def fetch(number: int) -> tuple[list[dict[str, Any]], int]:
            data = self._call("fu.wms.inventory.get", {"warehouse_code": self.warehouse_code,
                                                       "page_no": number, "page_size": PAGE}) or {}
            return data.get("data", []), int(data.get("total", 0))

        totals: dict[str, int] = {}
        for page in numbered_pages(fetch, page_size=PAGE, what="4PX inventory"):
            for item in page:
                if item.get("warehouse_code", self.warehouse_code) != self.warehouse_code:
                    continue
                units = int(item.get("available_stock", 0)) + int(item.get("pending_stock", 0))
                totals[item["sku_code"]] = totals.get(item["sku_code"], 0) + units
        return [StockLevel(warehouse=self.warehouse.id, seller_sku=sku, on_hand=units, as_of=now)
                for sku, units in sorted(totals.items())]


def consignee(address: Any) -> dict[str, str]:
    """`oconsignment_desc` of a create (source C): the name split at its first space, every street line
    in `street`."""
    first, _, last = (address.name or "").partition(" ")
    return {"country": address.country, "state": address.region or "", "city": address.city or "",
            "district": address.district or "", "post_code": address.postal_code or "",
            "street": " ".join(p for p in (address.line1, address.line2, address.line3) if p),
            "house_number": "", "company": address.company or "", "first_name": first, "last_name": last or first,
            "phone": address.phone or "", "email": address.email or ""}


def _status(item: dict[str, Any]) -> OutboundStatus:
    code = str(item.get("status", ""))
    complete = item.get("complete_time")
    return OutboundStatus(
        reference=str(item.get("ref_no", "")),
        remote_id=str(item.get("consignment_no", "")),
        state=STATE.get(code, OutboundState.OPEN),
        carrier=str(item.get("carrier_code") or item.get("logistics_product_code") or ""),
        tracking_number=str(item.get("shipping_no") or item.get("4px_tracking_no") or ""),
        shipped_at=datetime.fromtimestamp(int(complete) / 1000, UTC) if complete and code == "C" else None,
        lines=tuple(OutboundLine(str(s.get("sku_code")), int(s.get("qty", 0))) for s in item.get("outboundlist_sku", [])),
        detail=str(item.get("sub_status") or ""),
    )
