"""The warehouse connectors Orderhub knows, by kind: the records below plus the `orderhub.warehouses`
entry points of installed packages (connectors/plugins.py). Config validation reads it too."""

from __future__ import annotations

from collections.abc import Mapping

from connectors.plugins import collect
from connectors.warehouses import fourpx, shipbob
from pipeline.ports import WarehouseSpec

ENTRY_POINTS = "orderhub.warehouses"
BUILT_IN = (fourpx.CONNECTOR, shipbob.CONNECTOR)

WAREHOUSES: Mapping[str, WarehouseSpec] = collect(ENTRY_POINTS, BUILT_IN, WarehouseSpec)


def get_warehouse_connector(kind: str) -> WarehouseSpec:
    try:
        return WAREHOUSES[kind]
    except KeyError:
        raise KeyError(f"unknown warehouse kind {kind!r} (known: {', '.join(WAREHOUSES)})") from None
