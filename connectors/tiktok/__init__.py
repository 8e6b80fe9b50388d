"""TikTok Shop connector: `client.py` (signing, tokens, search paging, pushes) and `mapping.py` (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import orjson

from connectors.http import read_json
from connectors.tiktok import mapping
from connectors.tiktok.client import TikTokClient, verify_webhook

ORDER_EVENTS = {1, 3, 4}  # order status, address update, package update: each means "fetch the order"


class TikTokWebhooks:
    def order_ids(self, secrets: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> list[str] | None:
        if not verify_webhook(secrets["app_key"], secrets["app_secret"], body, headers.get("authorization")):
            return None
        try:
            event = orjson.loads(body)
        except orjson.JSONDecodeError:
            return []
        data = event.get("data") if isinstance(event, dict) else None
        if event.get("type") in ORDER_EVENTS and isinstance(data, dict) and data.get("order_id"):
            return [str(data["order_id"])]
        return []


@dataclass(frozen=True)
class TikTokConnector:
    name: str = "tiktok"
    # Its stock API addresses a product (listing) id besides the SKU: pushes need sku_map.listings.
    stock_needs_listing: bool = True
    # "Update times may exceed the selected search range due to ongoing data refreshes" (TikTok docs).
    overlap: timedelta = timedelta(minutes=30)
    webhooks: TikTokWebhooks = field(default_factory=TikTokWebhooks)

    read_payload = staticmethod(read_json)  # the transport's own body reader

    def map_raw(self, raw: bytes, shop: Any):
        return mapping.map_raw(raw, shop)

    def map_order(self, bundle: dict[str, Any], shop: Any):
        return mapping.map_order(bundle, shop)

    def identify(self, bundle: dict[str, Any]):
        return mapping.identify(bundle)

    def client(self, shop: Any, secrets: Mapping[str, str], limiter: Any) -> TikTokClient:
        return TikTokClient(shop, secrets, limiter)


CONNECTOR = TikTokConnector()
