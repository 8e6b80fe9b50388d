"""ExampleMart's emulator (on the sandbox's Emulator base) and its contract-suite harness.

The connector modules never import this one, as Orderhub's connectors never import `sandbox/`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.core.buckets import RateLimit
from sandbox.core.generator import GeneratedOrder, OrderState, Status
from sandbox.core.http_types import Request, Response, Route
from sandbox.core.server import Emulator
from sandbox.core.world import CATALOGUE

API_KEY = "em-demo-key-4c1f7a2b9e"
OPERATIONS = ("listOrders", "getOrder", "updateStock", "shipOrder")
PAGE = 100
MALFORMATIONS = 2  # 0: no currency, 1: a quantity as text
STATUS = {Status.PENDING: "pending", Status.READY: "paid", Status.PARTIALLY_SHIPPED: "partially_shipped",
          Status.SHIPPED: "shipped", Status.CANCELLED: "cancelled"}
SKUS = {item.sku for item in CATALOGUE}


class ExampleMartEmulator(Emulator):
    platform = "examplemart"
    default_rate_limits = {op: RateLimit(50, 50) for op in OPERATIONS}

    def __init__(self, api_key: str = API_KEY, **settings: Any) -> None:
        self.api_key = api_key
        super().__init__(**settings)
        self.route("GET", "/v1/orders", "listOrders", self._list)
        self.route("GET", "/v1/orders/{order_id}", "getOrder", self._get)
        self.route("POST", "/v1/stock", "updateStock", self._stock)
        self.route("POST", "/v1/orders/{order_id}/shipments", "shipOrder", self._ship)

    def countries(self) -> tuple[str, ...]:
        return ("US",)

    def assign(self, order: GeneratedOrder) -> str:
        order.account = "shop-1"
        return "EM" + order.serial

    def authenticate(self, request: Request, route: Route) -> Response | str:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return Response.json(401, {"error": "invalid_token"})
        return "shop-1"

    def throttled(self, request: Request, route: Route, retry_after: float) -> Response:
        return Response.json(429, {"error": "rate_limited"}, {"Retry-After": str(max(1, int(retry_after)))})

    def _render(self, oid: str, order: GeneratedOrder, state: OrderState) -> dict[str, Any]:
        broken = self.faults.malformation(oid, MALFORMATIONS)
        lines = [{"id": f"{oid}-{line.line_no}", "sku": line.item.sku, "unit_price": str(line.unit_price),
                  "quantity": line.quantity if broken != 1 else str(line.quantity),
                  "shipped": state.shipped_quantity(line.line_no)} for line in order.lines]
        to = state.address
        rendered = {"id": oid, "status": STATUS[state.status], "currency": order.currency,
                    "fulfilled_by": "platform" if order.platform_fulfilled else "seller",
                    "created_at": _iso(order.created_at), "updated_at": _iso(state.updated_at),
                    "ship_by": _iso(order.ship_by), "lines": lines,
                    "ship_to": {"name": to.name, "phone": to.phone, "line1": to.line1, "line2": to.line2,
                                "city": to.city, "region": to.region, "postal_code": to.postal_code,
                                "country": to.country}}
        if broken == 0:
            del rendered["currency"]
        return rendered

    def _list(self, request: Request) -> Response:
        """Orders updated in [updated_from, updated_to), oldest update first, PAGE at a time."""
        try:
            since = datetime.fromisoformat(request.arg("updated_from") or "")
            until = datetime.fromisoformat(request.arg("updated_to") or "")
            start = int(request.arg("cursor") or 0)
        except ValueError:
            return Response.json(400, {"error": "updated_from, updated_to: ISO-8601; cursor: a number"})
        now = self.clock.now()
        rows = sorted((o.state(now).updated_at.replace(microsecond=0), oid, o) for oid, o in self.orders.items()
                      if o.visible(now) and since <= o.state(now).updated_at.replace(microsecond=0) < until)
        end = min(start + PAGE, len(rows))
        page = [self._render(oid, o, o.state(now)) for _, oid, o in rows[start:end]]
        # A page whose last order `duplicates_after` shows it again at the top of the next (fault injection).
        after = end - 1 if end < len(rows) and page and self.faults.duplicates_after(page[-1]["id"]) else end
        return Response.json(200, {"orders": page, "next_cursor": str(after) if end < len(rows) else None})

    def _get(self, request: Request) -> Response:
        oid = request.params["order_id"]
        order = self.orders.get(oid)
        if order is None or not order.visible(self.clock.now()):
            return Response.json(404, {"error": "order_not_found"})
        return Response.json(200, self._render(oid, order, order.state(self.clock.now())))

    def _stock(self, request: Request) -> Response:
        results = []
        for item in request.json()["items"]:
            known = item["sku"] in SKUS
            self.record_push("stock", "shop-1", known, item)
            results.append({"sku": item["sku"], "accepted": True} if known else
                           {"sku": item["sku"], "accepted": False, "error": "no such sku", "code": "SKU_NOT_FOUND"})
        return Response.json(200, {"results": results})

    def _ship(self, request: Request) -> Response:
        if request.params["order_id"] not in self.orders:
            return Response.json(404, {"error": "order_not_found"})
        self.record_push("tracking", "shop-1", True, {"order_id": request.params["order_id"], **request.json()})
        return Response.json(200, {})


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def harness() -> Any:
    """The contract suite's Harness for ExampleMart (the `orderhub.contract_harnesses` entry point)."""
    from tests.contract.harness import Harness

    return Harness(platform="examplemart", make_emulator=ExampleMartEmulator, secrets={"api_key": API_KEY},
                   secret_name="api_key", shop_extra={}, operations=OPERATIONS,
                   platform_limits={"listOrders": RateLimit(0.01, 2)}, malformations=MALFORMATIONS)
