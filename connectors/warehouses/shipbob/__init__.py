"""ShipBob connector (REST, bearer token and channel)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.warehouses.shipbob.client import ShipBobClient


@dataclass(frozen=True)
class ShipBobConnector:
    name: str = "shipbob"

    def client(self, warehouse: Any, secrets: Mapping[str, str], limiter: Any) -> ShipBobClient:
        return ShipBobClient(warehouse, secrets, limiter)


CONNECTOR = ShipBobConnector()
