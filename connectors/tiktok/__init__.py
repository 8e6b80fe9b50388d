"""TikTok Shop connector: `client.py` (signing, tokens, search paging, pushes), `mapping.py` (pure) and
`webhooks.py` (which order a push is about)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from connectors.http import read_json
from connectors.tiktok import mapping
from connectors.tiktok.client import TikTokClient
from connectors.tiktok.webhooks import TikTokWebhooks


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
