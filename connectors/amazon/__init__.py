"""Amazon SP-API connector: `client.py` (LWA, Orders v0, RDT, pushes) and `mapping.py` (pure)."""

from __future__ import annotations

from datetime import timedelta

from connectors.amazon import mapping
from connectors.amazon.client import AmazonClient
from connectors.amazon.feeds import FEED_MESSAGES
from connectors.amazon.raw_fields import RAW_SAFE_FIELDS
from connectors.http import read_json
from pipeline.ports import Capabilities, ConnectorSpec

CONNECTOR = ConnectorSpec(
    name="amazon", map_raw=mapping.map_raw, map_order=mapping.map_order, identify=mapping.identify,
    read_payload=read_json, client=AmazonClient,
    credentials=("client_id", "client_secret", "refresh_token", "seller_id"),
    account_credentials=("seller_id",),
    # Amazon publishes some changes minutes after their LastUpdateDate; re-read half an hour back.
    overlap=timedelta(minutes=30),
    # Notifications come through SQS/EventBridge, not HTTP pushes: no webhooks. Big stock changes go as
    # JSON_LISTINGS_FEED documents of up to 25,000 listings (feeds.py).
    capabilities=Capabilities(stock_feed_size=FEED_MESSAGES),
    raw_safe_fields=RAW_SAFE_FIELDS,  # what `order show --raw` shows without --pii (raw_fields.py)
)
