"""4PX overseas-warehouse WMS emulator: one signed router endpoint, outbound orders moving over time.

Checks the MD5 signature over the exact body bytes, refuses a repeated `ref_no` as the API does,
holds per-SKU stock per warehouse (available vs pending for open outbounds) and moves outbound
orders S → P (picked: "taken off the shelf") → C (shipped, with carrier and tracking) on the sandbox
clock, or to E with sub-status S when stock is short. Error codes are not published; the ones here
are plausible and named below. 4PX publishes no method that changes an outbound order's consignee,
so none is served: an address change reaches a 4PX outbound only by cancelling and creating again.
The ground truth (`outbound_truth`) records where each outbound left for.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox.core.control import FulfilmentTimes, destination, mount_warehouse_controls
from sandbox.core.demo_accounts import load_demo_secrets
from sandbox.core.http_types import Request, Response, Route
from sandbox.core.server import Emulator
from sandbox.core.world import CATALOGUE

ROUTER = "/router/api/service"
WAREHOUSES = ("USNJ01", "DEFRA01", "JPOSA01")
# Chosen codes (4PX publishes none): signature, app key, timestamp, duplicate ref, not found, state.
E_SIGN, E_APP_KEY, E_TIMESTAMP = "100001", "100002", "100003"
E_DUPLICATE_REF, E_NOT_FOUND, E_STATE, E_PARAM = "OUT-1001", "OUT-1002", "OUT-1003", "OUT-1000"


@dataclass(frozen=True)
class FourPXCredentials:
    app_key: str
    app_secret: str


def demo_credentials() -> FourPXCredentials:
    table = load_demo_secrets()["fourpx-demo"]
    return FourPXCredentials(table["app_key"], table["app_secret"])


@dataclass
class Outbound:
    consignment_no: str
    ref_no: str
    warehouse: str
    skus: list[tuple[str, int]]
    created_at: datetime
    consignee: dict[str, Any] = field(default_factory=dict)  # oconsignment_desc as created
    status: str = "S"
    sub_status: str = ""
    tracking_no: str = ""
    carrier: str = ""
    picked_at: datetime | None = None
    completed_at: datetime | None = None
    shipped_to: dict[str, Any] | None = None  # the consignee the parcel left with


def _ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


class FourPXEmulator(FulfilmentTimes, Emulator):
    platform = "fourpx"

    def __init__(self, credentials: FourPXCredentials | None = None, *, warehouses: tuple[str, ...] = WAREHOUSES,
                 initial_stock: int = 200, pick_after: float = 1800, ship_after: float = 4 * 3600,
                 **settings: Any) -> None:
        self.credentials = credentials or demo_credentials()
        self.warehouses = warehouses
        self.on_hand: dict[tuple[str, str], int] = {(wh, item.sku): initial_stock for wh in warehouses
                                                    for item in CATALOGUE}
        self.pending: Counter[tuple[str, str]] = Counter()
        self.outbounds: dict[str, Outbound] = {}
        self.moving: set[str] = set()  # outbounds that may still move on their own: every call advances them
        self.by_ref: dict[str, str] = {}
        self.creates: Counter[str] = Counter()  # accepted creates per ref_no (must stay 1)
        self.cancellations: list[str] = []
        self.pick_after, self.ship_after = pick_after, ship_after
        settings["orders"] = 0  # a warehouse holds stock, not marketplace orders
        super().__init__(**settings)
        handlers = {"fu.wms.outbound.create": self._create, "fu.wms.outbound.getlist": self._list,
                    "fu.wms.outbound.cancel": self._cancel, "fu.wms.inventory.get": self._inventory}
        for method, handler in handlers.items():
            self.route("POST", ROUTER, method, handler)
        mount_warehouse_controls(self, self)

    # --- hooks ---------------------------------------------------------------------------------
    def countries(self) -> tuple[str, ...]:
        return ("US",)

    def assign(self, order: Any) -> str:
        return str(order.serial)

    def _match(self, request: Request) -> Route | None:
        """One URL for every method: the `method` query parameter picks the route (and its operation)."""
        wanted = request.arg("method")
        for route in self.routes:
            if route.control and route.pattern.match(request.path):
                return super()._match(request)
            if request.path == ROUTER and route.operation == wanted and route.method == request.method:
                return route
        return None

    def authenticate(self, request: Request, route: Route) -> Response | str:
        key, ts, given = request.arg("app_key"), request.arg("timestamp") or "", request.arg("sign") or ""
        if key != self.credentials.app_key:
            return _error(E_APP_KEY, "app_key is invalid")
        if not ts.isdigit() or abs(int(ts) / 1000 - time.time()) > 600:
            return _error(E_TIMESTAMP, "timestamp is invalid or expired")
        head = f"app_key{key}formatjsonmethod{request.arg('method')}timestamp{ts}v{request.arg('v') or ''}"
        expected = hashlib.md5(head.encode() + request.body + self.credentials.app_secret.encode()).hexdigest()
        if not hmac.compare_digest(expected, given.lower()):
            return _error(E_SIGN, "sign is invalid")
        return key

    def throttled(self, request: Request, route: Route, retry_after: float) -> Response:
        return Response.json(429, {"result": "0", "msg": "too many requests",
                                   "errors": [{"error_code": "429", "error_msg": "too many requests"}]})

    def server_error(self, request: Request, status: int) -> Response:
        return Response.json(status, {"result": "0", "msg": "system busy"})

    # --- time ----------------------------------------------------------------------------------
    def _advance(self) -> None:
        now = self.clock.now()
        for number in list(self.moving):
            out = self.outbounds[number]
            if out.status == "S" and now >= out.created_at + timedelta(seconds=self.pick_after):
                out.status, out.picked_at = "P", out.created_at + timedelta(seconds=self.pick_after)
            if out.status == "P" and now >= out.created_at + timedelta(seconds=self.ship_after):
                self._ship(out, out.created_at + timedelta(seconds=self.ship_after))
            if out.status not in ("S", "P"):
                self.moving.discard(number)

    def _ship(self, out: Outbound, when: datetime) -> None:
        out.status, out.completed_at = "C", when
        out.picked_at, out.shipped_to = out.picked_at or when, dict(out.consignee)
        out.carrier = {"US": "USPS", "DE": "DHL", "JP": "YAMATO"}.get(out.warehouse[:2], "DHL")
        out.tracking_no = "4PX" + hashlib.sha256(out.ref_no.encode()).hexdigest()[:14].upper()
        for sku, qty in out.skus:
            self.pending[(out.warehouse, sku)] -= qty
            self.on_hand[(out.warehouse, sku)] -= qty

    # --- methods -------------------------------------------------------------------------------
    def _create(self, request: Request) -> Response:
        body = _body(request)
        missing = [k for k in ("ref_no", "from_warehouse_code", "consignment_type", "oconsignment_desc",
                               "oconsignment_sku") if not body.get(k)]
        if missing:
            return _error(E_PARAM, f"missing {', '.join(missing)}")
        ref, wh = str(body["ref_no"]), str(body["from_warehouse_code"])
        if ref in self.by_ref:
            return _error(E_DUPLICATE_REF, f"ref_no {ref} already exists")
        if wh not in self.warehouses:
            return _error(E_PARAM, f"unknown from_warehouse_code {wh}")
        skus = [(str(s.get("sku_code")), int(s.get("qty", 0))) for s in body["oconsignment_sku"]]
        if any(qty <= 0 for _, qty in skus) or len(skus) > 100:
            return _error(E_PARAM, "oconsignment_sku needs 1..100 SKUs with qty > 0")
        number = f"OC{len(self.outbounds) + 1:010d}"
        desc = body["oconsignment_desc"]
        out = Outbound(number, ref, wh, skus, self.clock.now(), dict(desc) if isinstance(desc, dict) else {})
        short = [sku for sku, qty in skus if self.on_hand.get((wh, sku), 0) - self.pending[(wh, sku)] < qty]
        if short:
            out.status, out.sub_status = "E", "S"  # accepted, then stuck: out of stock
        else:
            for sku, qty in skus:
                self.pending[(wh, sku)] += qty
        self.outbounds[number], self.by_ref[ref] = out, number
        self.moving.add(number)
        self.creates[ref] += 1
        return _ok({"consignment_no": number, "4px_tracking_no": "4PX" + number[2:]})

    def _list(self, request: Request) -> Response:
        self._advance()
        body = _body(request)
        rows = list(self.outbounds.values())
        if body.get("ref_no"):
            rows = [o for o in rows if o.ref_no == body["ref_no"]]
        if body.get("consignment_no"):
            rows = [o for o in rows if o.consignment_no == body["consignment_no"]]
        if body.get("status"):
            rows = [o for o in rows if o.status == body["status"]]
        start, end = body.get("complete_time_start"), body.get("complete_time_end")
        if start is not None or end is not None:
            rows = [o for o in rows if o.completed_at and (start is None or _ms(o.completed_at) >= int(start))
                    and (end is None or _ms(o.completed_at) <= int(end))]
        page = _page(body, rows, default=50, maximum=500)
        return _ok(page | {"data": [self._render(o) for o in page["data"]]})

    def _cancel(self, request: Request) -> Response:
        self._advance()
        body = _body(request)
        number = body.get("consignment_no") or self.by_ref.get(str(body.get("ref_no")))
        out = self.outbounds.get(str(number))
        if out is None:
            return _error(E_NOT_FOUND, "outbound order not found")
        if out.status in ("C", "X", "D"):
            return _error(E_STATE, f"outbound order in status {out.status} cannot be cancelled")
        if out.status != "E":
            for sku, qty in out.skus:
                self.pending[(out.warehouse, sku)] -= qty
        out.status = "X"
        self.cancellations.append(out.ref_no)
        return _ok({"consignment_no": out.consignment_no})

    def _inventory(self, request: Request) -> Response:
        self._advance()
        body = _body(request)
        wanted = set(body.get("lstsku") or [])
        rows = [{"warehouse_code": wh, "sku_code": sku, "sku_id": hashlib.md5(sku.encode()).hexdigest()[:10],
                 "batch_no": "", "available_stock": max(0, units - self.pending[(wh, sku)]),
                 "pending_stock": self.pending[(wh, sku)], "onway_stock": 0, "stock_quality": "G"}
                for (wh, sku), units in sorted(self.on_hand.items())
                if (not body.get("warehouse_code") or wh == body["warehouse_code"]) and (not wanted or sku in wanted)]
        return _ok(_page(body, rows, default=50, maximum=500))

    def _render(self, out: Outbound) -> dict[str, Any]:
        consignee = {k: out.consignee.get(k, "") for k in CONSIGNEE}  # list items carry it (source I)
        return consignee | {
            "consignment_no": out.consignment_no, "ref_no": out.ref_no, "status": out.status,
            "sub_status": out.sub_status, "4px_tracking_no": "4PX" + out.consignment_no[2:],
            "shipping_no": out.tracking_no, "carrier_code": out.carrier, "warehouse_code": out.warehouse,
            "create_time": _ms(out.created_at), "complete_time": _ms(out.completed_at),
            "outboundlist_sku": [{"sku_code": s, "qty": q} for s, q in out.skus]}

    # --- for tests -----------------------------------------------------------------------------
    def count_by_reference(self) -> dict[str, int]:
        return dict(self.creates)

    def units_ordered(self) -> dict[str, int]:
        """Units per "warehouse/SKU" in every outbound order not cancelled (exceptions included: an
        order for stock the warehouse lacks was still received)."""
        units: dict[str, int] = {}
        with self.lock:
            for out in self.outbounds.values():
                if out.status != "X":
                    for sku, qty in out.skus:
                        units[f"{out.warehouse}/{sku}"] = units.get(f"{out.warehouse}/{sku}", 0) + qty
        return units

    def set_stock(self, warehouse: str, sku: str, units: int) -> None:
        with self.lock:
            self.on_hand[(warehouse, sku)] = units

    def pick_now(self, ref: str) -> dict[str, Any]:
        """Pick an outbound still in progress (S) now: from here on it is too late to re-address."""
        with self.lock:
            out = self.outbounds[self.by_ref[ref]]
            if out.status == "S":
                out.status, out.picked_at = "P", self.clock.now()
            return self._truth(out)

    def ship_now(self, ref: str) -> dict[str, Any]:
        with self.lock:
            out = self.outbounds[self.by_ref[ref]]
            if out.status in ("S", "P"):
                self._ship(out, self.clock.now())
            return self._truth(out)

    def outbound_truth(self) -> list[dict[str, Any]]:
        with self.lock:
            self._advance()
            return [self._truth(out) for out in self.outbounds.values()]

    def _truth(self, out: Outbound) -> dict[str, Any]:
        ship_to = _destination(out.consignee)
        return {"reference": out.ref_no, "consignment_no": out.consignment_no, "warehouse": out.warehouse,
                "status": out.status, "sub_status": out.sub_status, "picked": out.picked_at is not None,
                "shipped_at": out.completed_at.isoformat() if out.completed_at else None,
                "ship_to": ship_to, "ship_to_fingerprint": ship_to["fingerprint"],
                "shipped_to_fingerprint": _destination(out.shipped_to)["fingerprint"] if out.shipped_to is not None
                else None,
                "address_updates": []}  # 4PX takes none (see the module docstring)

    def inventory_truth(self) -> list[dict[str, Any]]:
        with self.lock:
            return [{"warehouse": wh, "sku": sku, "on_hand": units, "pending": self.pending[(wh, sku)],
                     "available": max(0, units - self.pending[(wh, sku)])}
                    for (wh, sku), units in sorted(self.on_hand.items())]

    def cancellation_truth(self) -> list[dict[str, Any]]:
        with self.lock:
            return [{"reference": ref} for ref in self.cancellations]


CONSIGNEE = ("country", "state", "city", "district", "post_code", "street", "house_number", "company",
             "first_name", "last_name", "phone", "email")


def _destination(consignee: dict[str, Any]) -> dict[str, Any]:
    street = " ".join(str(consignee.get(k) or "") for k in ("street", "house_number") if consignee.get(k))
    return destination(street, consignee.get("city"), consignee.get("state"), consignee.get("post_code"),
                       consignee.get("country"))


def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _page(body: dict[str, Any], rows: list[dict[str, Any]], *, default: int, maximum: int) -> dict[str, Any]:
    page_no = max(1, int(body.get("page_no") or 1))
    size = min(maximum, max(1, int(body.get("page_size") or default)))
    return {"page_no": page_no, "page_size": size, "total": len(rows),
            "data": rows[(page_no - 1) * size: page_no * size]}


def _ok(data: Any) -> Response:
    return Response.json(200, {"result": "1", "msg": "success", "errors": [], "data": data})


def _error(code: str, message: str) -> Response:
    return Response.json(200, {"result": "0", "msg": message, "data": None,
                               "errors": [{"error_code": code, "error_msg": message, "error_data": None,
                                           "referenceCode": None}]})
