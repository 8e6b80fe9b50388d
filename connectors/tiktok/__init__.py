"""TikTok Shop connector: `client.py` (signing, tokens, search paging, pushes), `mapping.py` (pure) and
`webhooks.py` (which order a push is about)."""

from __future__ import annotations

from datetime import timedelta

from connectors.http import read_json
from connectors.tiktok import mapping
from connectors.tiktok.client import ACCOUNT_CREDENTIALS, TikTokClient
from connectors.tiktok.raw_fields import RAW_SAFE_FIELDS
from connectors.tiktok.webhooks import TikTokWebhooks
from pipeline.ports import Capabilities, ConnectorSpec

CONNECTOR = ConnectorSpec(
    name="tiktok", map_raw=mapping.map_raw, map_order=mapping.map_order, identify=mapping.identify,
    read_payload=read_json, client=TikTokClient, credentials=("app_key", "app_secret", "refresh_token"),
    account_credentials=ACCOUNT_CREDENTIALS,
    # "Update times may exceed the selected search range due to ongoing data refreshes" (TikTok docs).
    overlap=timedelta(minutes=30),
    # Its stock API addresses a product (listing) id besides the SKU: pushes need sku_map.listings.
    capabilities=Capabilities(webhooks=TikTokWebhooks(), stock_needs_listing=True),
    raw_safe_fields=RAW_SAFE_FIELDS,  # what `order show --raw` shows without --pii (raw_fields.py)
)
