"""AliExpress connector: `client.py` (IOP signing, order paging in Pacific time, pushes) and `mapping.py` (pure).

Polling only: AliExpress documents no webhook signature scheme (docs/platforms/aliexpress.md), so the connector
has no `webhooks` attribute and the scheduler's polling is the only way orders arrive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from connectors.aliexpress import mapping
from connectors.aliexpress.client import AliExpressClient
from connectors.http import read_json


@dataclass(frozen=True)
class AliExpressConnector:
    name: str = "aliexpress"
    # Its stock API addresses a product (listing) id besides the SKU: pushes need sku_map.listings.
    stock_needs_listing: bool = True
    # Late-published updates (the sandbox holds some back up to 20 minutes) are re-read half an hour back.
    # Daylight-saving edges need no extra overlap here: the client widens those windows itself.
    overlap: timedelta = timedelta(minutes=30)

    read_payload = staticmethod(read_json)  # the transport's own body reader

    def map_raw(self, raw: bytes, shop: Any):
        return mapping.map_raw(raw, shop)

    def map_order(self, bundle: dict[str, Any], shop: Any):
        return mapping.map_order(bundle, shop)

    def identify(self, bundle: dict[str, Any]):
        return mapping.identify(bundle)

    def client(self, shop: Any, secrets: Mapping[str, str], limiter: Any) -> AliExpressClient:
        return AliExpressClient(shop, secrets, limiter)


CONNECTOR = AliExpressConnector()
