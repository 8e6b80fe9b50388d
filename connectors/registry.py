"""The platform connectors Orderhub knows, by name: built once, at import, from the records below plus
the `orderhub.connectors` entry points of installed packages (connectors/plugins.py).

Every list of platforms reads this one: config validation (names, required credentials), Order
validation (pipeline.model.PLATFORMS, installed from here), the workers and the CLI.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors import aliexpress, amazon, shein, temu, tiktok
from connectors.plugins import collect
from pipeline.model import use_platforms
from pipeline.ports import ConnectorSpec

ENTRY_POINTS = "orderhub.connectors"
BUILT_IN = (aliexpress.CONNECTOR, amazon.CONNECTOR, shein.CONNECTOR, temu.CONNECTOR, tiktok.CONNECTOR)

PLATFORMS: Mapping[str, ConnectorSpec] = collect(ENTRY_POINTS, BUILT_IN, ConnectorSpec)
use_platforms(PLATFORMS)


def get_connector(name: str) -> ConnectorSpec:
    try:
        return PLATFORMS[name]
    except KeyError:
        raise KeyError(f"unknown platform {name!r} (known: {', '.join(PLATFORMS)})") from None
