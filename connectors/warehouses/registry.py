"""The warehouse connectors Orderhub knows, by kind."""

from __future__ import annotations

from connectors.warehouses import fourpx, shipbob
from pipeline.ports import WarehouseConnector

WAREHOUSES: dict[str, WarehouseConnector] = {
    "fourpx": fourpx.CONNECTOR,
    "shipbob": shipbob.CONNECTOR,
}


def get_warehouse_connector(kind: str) -> WarehouseConnector:
    try:
        return WAREHOUSES[kind]
    except KeyError:
        raise KeyError(f"unknown warehouse kind {kind!r} (known: {', '.join(sorted(WAREHOUSES))})") from None
