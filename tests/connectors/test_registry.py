"""One registry of connector records: what each declares, that the declarations agree with the clients,
and that every list of platforms (Order and config validation, the sandbox's emulators) reads it.
Plugins arrive through entry points and are refused loudly when they cannot be registered."""

from __future__ import annotations

from datetime import timedelta
from importlib.metadata import EntryPoint

import pytest

from connectors import plugins
from connectors.registry import BUILT_IN, PLATFORMS, get_connector
from connectors.warehouses.registry import BUILT_IN as BUILT_IN_WAREHOUSES
from connectors.warehouses.registry import WAREHOUSES
from pipeline import model
from pipeline.ports import Capabilities, ConnectorSpec, WarehouseSpec
from sandbox.serve import MARKETPLACES
from sandbox.serve import WAREHOUSES as WAREHOUSE_EMULATORS
from tests.factories import make_order

DECLARED = {  # what each built-in platform can do beyond the calls every client makes
    "aliexpress": {"stock_needs_listing"},
    "amazon": set(),
    "shein": {"acknowledges", "webhooks", "stock_read_back"},
    "temu": {"webhooks", "stock_needs_listing"},
    "tiktok": {"webhooks", "stock_needs_listing"},
}


def capabilities(spec: ConnectorSpec) -> set[str]:
    found = spec.capabilities
    return {name for name, on in (("acknowledges", found.acknowledges), ("webhooks", found.webhooks is not None),
                                  ("stock_needs_listing", found.stock_needs_listing),
                                  ("stock_read_back", found.stock_read_back)) if on}


def test_the_registry_holds_the_built_in_records_by_name():
    assert [spec.name for spec in BUILT_IN] == sorted(DECLARED)
    assert all(PLATFORMS[spec.name] is spec for spec in BUILT_IN)
    assert list(PLATFORMS) == sorted(PLATFORMS)  # plugged-in ones (none here) sorted among them
    assert {spec.name: capabilities(spec) for spec in BUILT_IN} == DECLARED
    assert [spec.name for spec in BUILT_IN_WAREHOUSES] == ["fourpx", "shipbob"]
    assert all(WAREHOUSES[spec.name] is spec for spec in BUILT_IN_WAREHOUSES)
    assert get_connector("shein") is PLATFORMS["shein"]
    with pytest.raises(KeyError, match="unknown platform 'ebay'"):
        get_connector("ebay")
    with pytest.raises(TypeError):
        PLATFORMS["ebay"] = PLATFORMS["amazon"]  # read-only: registered once


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_declared_capabilities_agree_with_the_client(name):
    """A capability the client cannot serve, or a client call nobody declared, is caught here."""
    spec = PLATFORMS[name]
    assert spec.capabilities.acknowledges == callable(vars(spec.client).get("acknowledge"))
    assert spec.capabilities.stock_read_back == callable(vars(spec.client).get("stock_levels"))


def test_every_list_of_platforms_reads_the_registry():
    assert set(PLATFORMS) == model.PLATFORMS
    # The sandbox keeps its own lists (it never imports connectors): one emulator per built-in connector.
    assert set(MARKETPLACES) == {spec.name for spec in BUILT_IN}
    assert set(WAREHOUSE_EMULATORS) == {spec.name for spec in BUILT_IN_WAREHOUSES}


def test_an_order_cannot_be_validated_before_a_registry_is_installed(monkeypatch):
    monkeypatch.setattr(model, "PLATFORMS", frozenset())
    with pytest.raises(LookupError, match="import connectors.registry"):
        make_order(1)


def test_a_webhook_receiver_must_say_what_to_reply():
    class Silent:
        names_account = False

        def verify(self, secrets, headers, body):
            return None

    amazon = PLATFORMS["amazon"]
    with pytest.raises(ValueError, match="WebhookReceiver"):
        ConnectorSpec(name="silent", map_raw=amazon.map_raw, map_order=amazon.map_order, identify=amazon.identify,
                      read_payload=amazon.read_payload, client=amazon.client, credentials=(),
                      overlap=timedelta(0), capabilities=Capabilities(webhooks=Silent()))


# --- plugins ---------------------------------------------------------------------------------

EXTRA = ConnectorSpec(name="extra", map_raw=BUILT_IN[0].map_raw, map_order=BUILT_IN[0].map_order,
                      identify=BUILT_IN[0].identify, read_payload=BUILT_IN[0].read_payload,
                      client=BUILT_IN[0].client, credentials=("key",), overlap=timedelta(minutes=5))
SHIPPER = WarehouseSpec(name="shipper", client=BUILT_IN_WAREHOUSES[0].client, credentials=("token",))
AMAZON_AGAIN = BUILT_IN[1]


def entry(name: str, attribute: str, group: str = "orderhub.connectors") -> EntryPoint:
    return EntryPoint(name, f"{__name__}:{attribute}", group)


def collect_with(monkeypatch, *entries: EntryPoint, kind: type = ConnectorSpec, built_in=BUILT_IN):
    monkeypatch.setattr(plugins, "entry_points", lambda group: [e for e in entries if e.group == group])
    group = "orderhub.connectors" if kind is ConnectorSpec else "orderhub.warehouses"
    return plugins.collect(group, built_in, kind)


def test_an_entry_point_adds_a_connector_beside_the_built_in_ones(monkeypatch):
    found = collect_with(monkeypatch, entry("extra", "EXTRA"))
    assert list(found) == sorted([*DECLARED, "extra"]) and found["extra"] is EXTRA
    warehouses = collect_with(monkeypatch, entry("shipper", "SHIPPER", "orderhub.warehouses"), kind=WarehouseSpec,
                              built_in=BUILT_IN_WAREHOUSES)
    assert list(warehouses) == ["fourpx", "shipbob", "shipper"]


@pytest.mark.parametrize(("plugin", "refused"), [
    (entry("extra", "SHIPPER"), "is a WarehouseSpec, not a ConnectorSpec"),
    (entry("other", "EXTRA"), "the entry point is named 'other', its record 'extra'"),
    (entry("amazon", "AMAZON_AGAIN"), "'amazon' is already registered by orderhub (built in)"),
    (entry("extra", "NO_SUCH_NAME"), "failed to load (AttributeError"),
])
def test_a_plugin_that_cannot_be_registered_stops_the_registry_naming_it(monkeypatch, plugin, refused):
    with pytest.raises(plugins.PluginError) as err:
        collect_with(monkeypatch, plugin)
    assert refused in str(err.value) and plugin.value in str(err.value)
