"""The chaos seller file opens every client-side budget, so faults, not pacing, are what the run meets."""

from __future__ import annotations

from pathlib import Path

from config.loader import load_sellers
from connectors.warehouses.fourpx.client import DEFAULT_LIMITS as FOURPX
from connectors.warehouses.limits import warehouse_limits
from connectors.warehouses.shipbob.client import DEFAULT_LIMITS as SHIPBOB
from pipeline.ports import Limit
from tests.chaos.world import write_seller


def test_warehouses_and_platform_operations_are_paced_far_above_their_production_defaults(tmp_path: Path):
    (cfg,) = load_sellers(write_seller(tmp_path))
    defaults = {"fourpx": FOURPX, "shipbob": SHIPBOB}
    for warehouse in cfg.warehouses:
        assert warehouse_limits(warehouse, defaults[warehouse.kind]) == {"*": Limit(500.0, 500)}
    fourpx = next(w for w in cfg.warehouses if w.id == "4px-us")
    assert fourpx.options["warehouse_code"] == "USNJ01"  # the rest of its options kept
    for shop in cfg.shops:
        assert shop.rate_limits and all(limit.rate >= 200 for limit in shop.rate_limits.values())
