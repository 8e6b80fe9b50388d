"""Client-side request pace of a warehouse API: the connector's default, or the seller's override.

Neither 4PX nor a sandbox needs the pace ShipBob's 150/min imposes; a seller (or a benchmark with the
emulators' limits off) sets `options = { rate_limit = "50", rate_burst = "50" }` on the warehouse.
"""

from __future__ import annotations

from collections.abc import Mapping

from config.schema import WarehouseConfig
from pipeline.ports import Limit


def warehouse_limits(warehouse: WarehouseConfig, defaults: Mapping[str, Limit]) -> dict[str, Limit]:
    """Every operation at `rate_limit` per second (burst `rate_burst`, default the rate) when set."""
    rate = warehouse.options.get("rate_limit")
    if not rate:
        return dict(defaults)
    burst = warehouse.options.get("rate_burst") or rate
    return {"*": Limit(float(rate), max(1, int(float(burst))))}
