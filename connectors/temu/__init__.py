"""TEMU connector: `client.py` (bundles, pushes) with `router.py` (regional router, the app's one bucket),
`signing.py`, `envelope.py` (error codes) and `stock.py` (stock edits); `mapping.py` (pure) and
`webhooks.py` (encrypted, signed pushes)."""

from __future__ import annotations

from datetime import timedelta

from connectors.http import read_json
from connectors.temu import mapping
from connectors.temu.client import TemuClient
from connectors.temu.raw_fields import RAW_SAFE_FIELDS
from connectors.temu.webhooks import TemuWebhooks
from pipeline.ports import Capabilities, ConnectorSpec

CONNECTOR = ConnectorSpec(
    name="temu", map_raw=mapping.map_raw, map_order=mapping.map_order, identify=mapping.identify,
    read_payload=read_json, client=TemuClient, credentials=("app_key", "app_secret", "access_token"),
    account_credentials=("app_key", "access_token"),
    # updateTime is the status-change time; late-published changes are not documented for TEMU, so the
    # overlap is sized like TikTok's (and covers the sandbox's up-to-20-minute late updates).
    overlap=timedelta(minutes=30),
    # Its stock API addresses a product (goodsId) besides the SKU: pushes need sku_map.listings.
    capabilities=Capabilities(webhooks=TemuWebhooks(), stock_needs_listing=True),
    raw_safe_fields=RAW_SAFE_FIELDS,  # what `order show --raw` shows without --pii (raw_fields.py)
)
