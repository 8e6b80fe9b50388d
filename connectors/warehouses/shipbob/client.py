"""ShipBob REST client: bearer token plus channel header, `reference_id` unique per account.

150 requests per minute per token (sliding window); a 429 carries `x-retry-after` seconds.
Shipment statuses: Processing, Completed (left the warehouse), Exception, OnHold, Cancelled; a
Processing shipment's status details say when it has been Picked, Packed and Labeled.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from config.schema import WarehouseConfig
from connectors.http import OK, Answer, Transport, Verdict
from connectors.paging import numbered_pages
from connectors.ratelimit import RateLimiter
from connectors.responses import Action, Reading, Responses, Row, retry_after_seconds
from connectors.warehouses.limits import warehouse_limits
from connectors.warehouses.outbound import NOT_FOUND, cancel_once, submit_once, without_buyer_data
from connectors.warehouses.shipbob.address import (
    ADDRESS_VERSIONS,
    DEFAULT_ADDRESS_VERSION,
    STATE,
    answer,
    live_shipments,
    recipient,
    ships_to,
    state_of,
    update_body,
)
from orderhub.runtime.logs import register_secret
from pipeline.model import StockLevel
from pipeline.ports import AddressUpdate, Limit, OutboundLine, OutboundRequest, OutboundStatus
from pipeline.stages import OutboundState

PRODUCTION = "https://api.shipbob.com"
VERSION = "1.0"
# A sliding window of 150/min: refill 2.5/s with a small burst never puts more than ~150 in any minute.
DEFAULT_LIMITS = {"*": Limit(2.5, 5)}
PAGE = 250
REFUSALS = (400, 404, 409, 422)  # an address update's refusal: read as ShipBob's answer, not raised


def read_problem(body: Any) -> Reading:
    """ShipBob's status is the whole verdict; its error body (`message`, or a problem's `title`) says why."""
    return Reading(message=str(body.get("message") or body.get("title") or "") if isinstance(body, dict) else "")


REFUSED_CREDENTIALS = Row(Action.AUTH, "token or channel refused")  # the default rows, said when ShipBob says nothing
classify = Responses(
    read=read_problem,
    statuses={401: REFUSED_CREDENTIALS, 403: REFUSED_CREDENTIALS},
    hint=lambda headers: retry_after_seconds(headers, "x-retry-after", "retry-after"),  # ShipBob's own first
)


def classify_update(response: Answer, body: Any) -> Verdict:
    """An address update refused with a JSON body is an answer to report (AddressUpdate.detail), not an
    error to raise; auth, throttling and 5xx go as on every other call."""
    if response.status_code in REFUSALS and isinstance(body, dict):
        return OK
    return classify(response, body)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ShipBobClient:
    bounds_shipment_reads = False

    def __init__(self, warehouse: WarehouseConfig, secrets: Mapping[str, str], limiter: RateLimiter) -> None:
        self.warehouse = warehouse
        self._token = secrets["token"]
        register_secret(self._token)
        self.channel_id = secrets["channel_id"]
        self.root = (warehouse.base_url or PRODUCTION).rstrip("/")
        self.version = warehouse.options.get("api_version", VERSION)
        self.base = f"{self.root}/{self.version}"
        # `:updateAddress` exists from 2026-01 on: the default 1.0 (and 2025-07) send it under 2026-01.
        self.address_version = warehouse.options.get("address_api_version") or (
            self.version if self.version in ADDRESS_VERSIONS else DEFAULT_ADDRESS_VERSION)
        self.location_id = warehouse.options.get("location_id")
        self.transport = Transport("shipbob", warehouse.id, self.channel_id, limiter,
                                   warehouse_limits(warehouse, DEFAULT_LIMITS), timeout=(5.0, 20.0))

    def _call(self, operation: str, method: str, path: str, *, params: dict[str, Any] | None = None,
              json: Any = None, attempts: int | None = None, version: str | None = None) -> Any:
        return self._exchange(operation, method, path, params=params, json=json, attempts=attempts,
                              version=version)[1]

    def _exchange(self, operation: str, method: str, path: str, *, params: dict[str, Any] | None = None,
                  json: Any = None, attempts: int | None = None, version: str | None = None,
                  classifier: Any = classify) -> tuple[Answer, Any]:
        headers = {"Authorization": f"Bearer {self._token}", "shipbob_channel_id": self.channel_id}
        url = f"{self.root}/{version or self.version}{path}"
        return self.transport.call(operation, lambda: {"method": method, "url": url, "params": params, "json": json,
                                                       "headers": headers}, classifier, attempts=attempts)

    def submit(self, request: OutboundRequest) -> OutboundStatus:
        address = request.ship_to
        body = {
            "reference_id": request.reference,
            "order_number": request.external_id,
            "shipping_method": request.shipping_method or self.warehouse.options.get("shipping_method", "Standard"),
            "type": "DTC",
            "recipient": recipient(address),
            "products": [{"reference_id": line.seller_sku, "name": line.seller_sku, "quantity": line.quantity}
                         for line in request.lines],
        }
        if self.location_id:
            body["location_id"] = int(self.location_id)

        def create() -> OutboundStatus:
            return _status(self._call("createOrder", "POST", "/order", json=body, attempts=1) or {})

        return submit_once(create, self.find, request.reference)

    def find(self, reference: str) -> OutboundStatus | None:
        order = self._order(reference)
        return _status(order) if order else None

    def _order(self, reference: str, version: str | None = None) -> dict[str, Any] | None:
        orders = self._call("listOrders", "GET", "/order", params={"ReferenceIds": reference, "Limit": 50},
                            version=version) or []
        matches = [o for o in orders if isinstance(o, dict) and o.get("reference_id") == reference]
        return matches[0] if matches else None

    def update_address(self, reference: str, ship_to: Any) -> AddressUpdate:
        """`PUT /{version}/shipment/{id}:updateAddress` on every live shipment of the order (source H).

        The order is looked up under the same API version as the update, so the shipment ids are that
        version's. Applied only when ShipBob answered `is_success: true` for each shipment, or when,
        after a refusal, ShipBob's own copy already holds the new address (an earlier attempt whose
        answer was lost). ShipBob documents no pick rule for this call; it refuses cancelling a picked
        shipment, and the emulator refuses the update likewise (unverified)."""
        version = self.address_version
        if version not in ADDRESS_VERSIONS:
            found = self.find(reference)
            return AddressUpdate(reference=reference, applied=False, state=found.state if found else NOT_FOUND,
                                 detail=f"not sent: ShipBob documents no address update under API version {version}")
        order = self._order(reference, version)
        if order is None:
            return AddressUpdate(reference=reference, applied=False, state=NOT_FOUND,
                                 detail="ShipBob has no order with this reference_id")
        body = update_body(ship_to)
        shipments = live_shipments(order)
        if body is None or not shipments:
            why = "the new address lacks street_address1 or city, which ShipBob requires" if body is None \
                else "the order has no shipment left to re-address"
            return AddressUpdate(reference=reference, applied=False, state=state_of(order), detail=f"not sent: {why}")
        refusals = []
        for shipment in shipments:
            response, reply = self._exchange("updateShipmentAddress", "PUT", f"/shipment/{shipment['id']}:updateAddress",
                                             json=body, version=version, classifier=classify_update)
            refusal = answer(response, reply)
            if refusal is not None:
                refusals.append(refusal)
        if not refusals:
            return AddressUpdate(reference=reference, applied=True, state=state_of(order))
        after = self._order(reference, version) or order  # a refusal may be a race with the pick
        if ships_to(after, body):
            return AddressUpdate(reference=reference, applied=True, state=state_of(after),
                                 detail="ShipBob already ships to this address")
        return AddressUpdate(reference=reference, applied=False, state=state_of(after),
                             detail=without_buyer_data("; ".join(refusals), ship_to))

    def cancel(self, reference: str) -> OutboundStatus:
        return cancel_once(self.find, lambda current: self._call(
            "cancelOrder", "POST", f"/order/{current.remote_id}/cancel"), reference, warehouse="ShipBob")

    def shipments_since(self, since: datetime, until: datetime | None = None) -> list[OutboundStatus]:
        # No end to a ShipBob update-time filter that we rely on: `until` is not honoured
        # (bounds_shipment_reads), so the poll reads its window in one go.
        params = {"HasTracking": "true", "LastUpdateStartDate": since.astimezone(UTC).isoformat(), "Limit": PAGE}

        def fetch(number: int) -> tuple[list[dict[str, Any]], int]:
            orders = self._call("listOrders", "GET", "/order", params=params | {"Page": number}) or []
            return orders, (number * PAGE + 1) if len(orders) == PAGE else (number - 1) * PAGE + len(orders)

        found = [_status(o) for page in numbered_pages(fetch, page_size=PAGE, what="ShipBob orders") for o in page]
        return [s for s in found if s.state in (OutboundState.SHIPPED, OutboundState.EXCEPTION)]

    def inventory(self) -> list[StockLevel]:
        now = datetime.now(UTC)

        def fetch(number: int) -> tuple[list[dict[str, Any]], int]:
            reply = self._call("inventoryLevels", "GET", "/inventory-level", params={"Page": number, "PageSize": PAGE})
            items = reply.get("items", []) if isinstance(reply, dict) else (reply or [])
            return items, (number * PAGE + 1) if len(items) == PAGE else (number - 1) * PAGE + len(items)

        levels = []
        for page in numbered_pages(fetch, page_size=PAGE, what="ShipBob inventory"):
            for item in page:
                on_hand = item.get("on_hand_quantity", item.get("total_on_hand_quantity", 0))
                levels.append(StockLevel(warehouse=self.warehouse.id, seller_sku=str(item["sku"]),
                                         on_hand=int(on_hand or 0), as_of=now))
        return levels


def _status(order: dict[str, Any]) -> OutboundStatus:
    shipments = order.get("shipments") or []
    shipment = shipments[-1] if shipments else {}
    tracking = shipment.get("tracking") or {}
    state = STATE.get(str(shipment.get("status") or "")) or (
        OutboundState.CANCELLED if order.get("status") == "Cancelled" else OutboundState.OPEN)
    return OutboundStatus(
        reference=str(order.get("reference_id", "")),
        remote_id=str(order.get("id", "")),
        state=state,
        carrier=str(tracking.get("carrier") or ""),
        tracking_number=str(tracking.get("tracking_number") or ""),
        shipped_at=_parse_time(tracking.get("shipping_date") or shipment.get("actual_fulfillment_date")),
        lines=tuple(OutboundLine(str(p.get("reference_id") or p.get("sku")), int(p.get("quantity", 0)))
                    for p in order.get("products", [])),
        detail=_details(shipment.get("status_details")),
    )


def _details(details: Any) -> str:
    """Status details as names (2026-01 sends a list of `{id, name, description}`, older copies a string)."""
    if isinstance(details, list):
        return ", ".join(str(d.get("name") or d.get("description") or "") for d in details if isinstance(d, dict))
    return str(details or "")
