"""ExampleMart REST client for one shop: `Authorization: Bearer <api_key>`, JSON in and out, status codes
mean what the default response table says (connectors/responses.py)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from config.accounts import platform_account
from config.schema import ShopConfig
from connectors.http import Transport
from connectors.paging import token_pages
from connectors.ratelimit import RateLimiter
from connectors.responses import Responses
from orderhub.runtime.logs import register_secret
from pipeline.ports import Limit, ListedRows, PushOutcome, RawBundle, StockPush, TrackingPush

API = "https://api.examplemart.invalid"
DEFAULT_LIMITS = {"*": Limit(10.0, 10)}
classify = Responses()  # no envelope: the status is the whole verdict


class ExampleMartClient:
    def __init__(self, shop: ShopConfig, secrets: Mapping[str, str], limiter: RateLimiter) -> None:
        self.shop = shop
        self._api_key = secrets["api_key"]
        register_secret(self._api_key)
        self.base = (shop.base_url or API).rstrip("/")
        self.transport = Transport("examplemart", shop.shop_id, platform_account(shop, secrets), limiter,
                                   DEFAULT_LIMITS | dict(shop.rate_limits))

    def _call(self, operation: str, method: str, path: str, *, params: dict[str, str] | None = None,
              body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self._api_key}"}
        _, reply = self.transport.call(operation, lambda: {
            "method": method, "url": self.base + path, "params": params, "json": body, "headers": headers}, classify)
        return reply

    def sync_horizon(self, now: datetime) -> datetime:
        return now

    def changed_orders(self, since: datetime, until: datetime, listed: ListedRows | None = None
                       ) -> Iterator[list[RawBundle]]:
        """List rows are whole orders, so there is nothing for `listed` to save."""
        window = {"updated_from": since.isoformat(), "updated_to": until.isoformat()}

        def fetch(cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
            reply = self._call("listOrders", "GET", "/v1/orders", params=window | ({"cursor": cursor} if cursor else {}))
            return reply["orders"], reply.get("next_cursor")

        for orders in token_pages(fetch, what="examplemart orders"):
            yield [{"order": order} for order in orders]

    def fetch_order(self, external_id: str) -> RawBundle:
        return {"order": self._call("getOrder", "GET", f"/v1/orders/{external_id}")}

    def push_stock(self, pushes: Sequence[StockPush]) -> list[PushOutcome]:
        reply = self._call("updateStock", "POST", "/v1/stock",
                           body={"items": [{"sku": p.platform_sku, "quantity": max(0, p.quantity)} for p in pushes]})
        return [PushOutcome(r["sku"], r["accepted"], r.get("error", ""), r.get("code", "")) for r in reply["results"]]

    def push_tracking(self, push: TrackingPush) -> PushOutcome:
        self._call("shipOrder", "POST", f"/v1/orders/{push.external_id}/shipments", body={
            "carrier": push.carrier, "tracking_number": push.tracking_number,
            "line_ids": [item.line_id for item in push.items]})
        return PushOutcome(push.external_id, True)
