"""SHEIN connector: `client.py` (key decryption, windows, pushes) with `signing.py` (signature, AES),
`envelope.py` (exact decoding, error codes) and `stock.py` (stock push, read-back); `mapping.py` (pure)
and `webhooks.py` (signed, encrypted pushes)."""

from __future__ import annotations

from datetime import timedelta

from connectors.shein import mapping
from connectors.shein.client import ACCOUNT_CREDENTIALS, SheinClient
from connectors.shein.envelope import decode_exact
from connectors.shein.raw_fields import RAW_SAFE_FIELDS
from connectors.shein.webhooks import SheinWebhooks
from pipeline.ports import Capabilities, ConnectorSpec

CONNECTOR = ConnectorSpec(
    name="shein", map_raw=mapping.map_raw, map_order=mapping.map_order, identify=mapping.identify,
    read_payload=decode_exact,  # every float kept as its decimal text, as the client reads a body
    client=SheinClient, credentials=("app_id", "app_secret", "open_key_id", "secret_key"),
    account_credentials=ACCOUNT_CREDENTIALS,
    overlap=timedelta(minutes=30),  # like TikTok's: covers updates published up to half an hour late
    capabilities=Capabilities(
        webhooks=SheinWebhooks(),
        acknowledges=True,  # told once a warehouse accepts an order (client.acknowledge, export-address)
        stock_read_back=True,  # client.stock_levels (stockQuery): the drift check reads it
    ),
    raw_safe_fields=RAW_SAFE_FIELDS,  # what `order show --raw` shows without --pii (raw_fields.py)
)
