"""SHEIN connector: `client.py` (key decryption, signing, windows, pushes), `mapping.py` (pure) and
`webhooks.py` (signed, encrypted pushes)."""

from __future__ import annotations

from datetime import timedelta

from connectors.shein import mapping
from connectors.shein.client import SheinClient, decode_exact
from connectors.shein.webhooks import SheinWebhooks
from pipeline.ports import Capabilities, ConnectorSpec

CONNECTOR = ConnectorSpec(
    name="shein", map_raw=mapping.map_raw, map_order=mapping.map_order, identify=mapping.identify,
    read_payload=decode_exact,  # every float kept as its decimal text, as the client reads a body
    client=SheinClient, credentials=("app_id", "app_secret", "open_key_id", "secret_key"),
    overlap=timedelta(minutes=30),  # like TikTok's: covers updates published up to half an hour late
    capabilities=Capabilities(
        webhooks=SheinWebhooks(),
        acknowledges=True,  # told once a warehouse accepts an order (client.acknowledge, export-address)
        stock_read_back=True,  # client.stock_levels (stockQuery): the drift check reads it
    ),
)
