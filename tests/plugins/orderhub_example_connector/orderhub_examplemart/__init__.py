"""ExampleMart connector: `client.py` (bearer token, cursor paging, pushes) and `mapping.py` (pure).

Registered by its `orderhub.connectors` entry point (pyproject.toml), never by Orderhub's own code.
"""

from __future__ import annotations

from datetime import timedelta

from connectors.http import read_json
from orderhub_examplemart import mapping
from orderhub_examplemart.client import ExampleMartClient
from pipeline.ports import Capabilities, ConnectorSpec

CONNECTOR = ConnectorSpec(
    name="examplemart", map_raw=mapping.map_raw, map_order=mapping.map_order, identify=mapping.identify,
    read_payload=read_json, client=ExampleMartClient, credentials=("api_key",),
    overlap=timedelta(minutes=30),  # updates may show up to 20 minutes after their update time
    capabilities=Capabilities(),  # polling only; SKU-only stock pushes; no stock read API
)
