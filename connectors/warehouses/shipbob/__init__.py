"""ShipBob connector (REST, bearer token and channel)."""

from __future__ import annotations

from connectors.warehouses.shipbob.client import ShipBobClient
from pipeline.ports import WarehouseSpec

CONNECTOR = WarehouseSpec(name="shipbob", client=ShipBobClient, credentials=("token", "channel_id"))
