"""A warehouse's request pace: the connector's default unless the seller's options set one."""

from __future__ import annotations

from config.schema import WarehouseConfig
from connectors.warehouses.limits import warehouse_limits
from connectors.warehouses.shipbob.client import DEFAULT_LIMITS
from pipeline.ports import Limit


def _warehouse(**options: str) -> WarehouseConfig:
    return WarehouseConfig(id="sb", kind="shipbob", countries=["US"], credentials={}, options=options)


def test_without_options_the_connector_default_applies():
    assert warehouse_limits(_warehouse(), DEFAULT_LIMITS) == DEFAULT_LIMITS


def test_rate_option_replaces_every_operation_and_burst_defaults_to_the_rate():
    assert warehouse_limits(_warehouse(rate_limit="40"), DEFAULT_LIMITS) == {"*": Limit(40.0, 40)}
    assert warehouse_limits(_warehouse(rate_limit="0.5", rate_burst="3"), DEFAULT_LIMITS) == {"*": Limit(0.5, 3)}
