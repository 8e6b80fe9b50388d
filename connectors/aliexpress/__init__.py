"""AliExpress connector: `client.py` (order paging in Pacific time, pushes) with `signing.py` (IOP signature)
and `envelope.py` (the gateway's errors, codes), and `mapping.py` (pure).

Polling only: AliExpress documents no webhook signature scheme (docs/platforms/aliexpress.md), so the connector
declares no `webhooks` and the scheduler's polling is the only way orders arrive.
"""

from __future__ import annotations

from datetime import timedelta

from connectors.aliexpress import mapping
from connectors.aliexpress.client import ACCOUNT_CREDENTIALS, AliExpressClient
from connectors.aliexpress.raw_fields import RAW_SAFE_FIELDS
from connectors.http import read_json
from pipeline.ports import Capabilities, ConnectorSpec

CONNECTOR = ConnectorSpec(
    name="aliexpress", map_raw=mapping.map_raw, map_order=mapping.map_order, identify=mapping.identify,
    read_payload=read_json, client=AliExpressClient, credentials=("app_key", "app_secret", "access_token"),
    account_credentials=ACCOUNT_CREDENTIALS,
    # Late-published updates (the sandbox holds some back up to 20 minutes) are re-read half an hour back.
    # Daylight-saving edges need no extra overlap here: the client widens those windows itself.
    overlap=timedelta(minutes=30),
    # Its stock API addresses a product (listing) id besides the SKU: pushes need sku_map.listings.
    capabilities=Capabilities(stock_needs_listing=True),
    raw_safe_fields=RAW_SAFE_FIELDS,  # what `order show --raw` shows without --pii (raw_fields.py)
)
