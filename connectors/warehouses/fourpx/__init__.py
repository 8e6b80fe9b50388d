"""4PX overseas-warehouse WMS connector (signed router API)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.warehouses.fourpx.client import FourPXClient


@dataclass(frozen=True)
class FourPXConnector:
    name: str = "fourpx"

    def client(self, warehouse: Any, secrets: Mapping[str, str], limiter: Any) -> FourPXClient:
        return FourPXClient(warehouse, secrets, limiter)


CONNECTOR = FourPXConnector()
