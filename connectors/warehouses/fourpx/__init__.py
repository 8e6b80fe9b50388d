"""4PX overseas-warehouse WMS connector (signed router API)."""

from __future__ import annotations

from connectors.warehouses.fourpx.client import FourPXClient
from pipeline.ports import WarehouseSpec

CONNECTOR = WarehouseSpec(name="fourpx", client=FourPXClient, credentials=("app_key", "app_secret"))
