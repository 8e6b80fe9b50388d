from __future__ import annotations

import msgspec

from pipeline.model import Address, HoldReason
from pipeline.routing import route
from tests.pipeline.helpers import JP, US, order, seller


def test_one_warehouse_holding_every_line_wins_by_priority():
    d = route(order(1, [("MUG", 2), ("BOWL", 1)]), seller(),
              {("east", "MUG"): 5, ("east", "BOWL"): 1, ("west", "MUG"): 9, ("west", "BOWL"): 9})
    assert d.routed and [a.warehouse for a in d.allocations] == ["east"]
    assert d.allocations[0].lines == (("BOWL", 1), ("MUG", 2))
    assert d.passed_over == {"osaka": "does not serve US"}


def test_a_warehouse_short_of_a_line_is_passed_over_with_the_reason():
    d = route(order(1, [("MUG", 2)]), seller(), {("east", "MUG"): 1, ("west", "MUG"): 3})
    assert [a.warehouse for a in d.allocations] == ["west"]
    assert d.passed_over["east"] == "has 1 of 2 MUG"
    assert "passed over east: has 1 of 2 MUG" in d.explain()


def test_tie_on_priority_goes_to_lower_cost_then_id():
    from config.schema import WarehouseConfig

    whs = [WarehouseConfig(id=i, kind="fourpx", credentials={}, countries=["US"], priority=1, cost_hint=c)
           for i, c in (("b", 1.0), ("a", 1.0), ("c", 0.5))]
    stock = {(w, "MUG"): 5 for w in "abc"}
    assert route(order(1, [("MUG", 1)]), seller(warehouses=whs), stock).allocations[0].warehouse == "c"
    whs[2] = WarehouseConfig(id="c", kind="fourpx", credentials={}, countries=["US"], priority=1, cost_hint=2.0)
    assert route(order(1, [("MUG", 1)]), seller(warehouses=whs), stock).allocations[0].warehouse == "a"


def test_split_only_when_the_seller_allows_it():
    stock = {("east", "MUG"): 1, ("west", "MUG"): 1}
    held = route(order(1, [("MUG", 2)]), seller(split=False), stock)
    assert held.hold.reason is HoldReason.INSUFFICIENT_STOCK
    split = route(order(1, [("MUG", 2)]), seller(split=True), stock)
    assert [(a.warehouse, a.lines) for a in split.allocations] == [("east", (("MUG", 1),)), ("west", (("MUG", 1),))]


def test_insufficient_stock_everywhere_is_held_with_numbers():
    d = route(order(1, [("MUG", 4)]), seller(split=True), {("east", "MUG"): 1, ("west", "MUG"): 2})
    assert d.hold.reason is HoldReason.INSUFFICIENT_STOCK and "MUG: need 4, 3 free in 2 warehouse(s)" in d.hold.detail


def test_no_warehouse_for_the_country():
    d = route(order(1, [("MUG", 1)], address=msgspec.structs.replace(US, country="BR")), seller(), {})
    assert d.hold.reason is HoldReason.NO_WAREHOUSE_FOR_COUNTRY and "no warehouse for BR" in d.hold.detail


def test_capabilities_route_oversize_items_to_capable_warehouses():
    d = route(order(1, [("SOFA", 1)]), seller(), {("east", "SOFA"): 5, ("west", "SOFA"): 5}, {"SOFA": ["oversize"]})
    assert d.allocations[0].warehouse == "west" and d.passed_over["east"] == "lacks capability oversize"


def test_incomplete_or_missing_address_is_held():
    masked = Address(country="US", city="Austin", postal_code="78701")
    assert route(order(1, [("MUG", 1)], address=masked), seller(), {}).hold.reason is HoldReason.ADDRESS_INCOMPLETE
    assert route(order(1, [("MUG", 1)], address=None), seller(), {}).hold.reason is HoldReason.ADDRESS_INCOMPLETE
    no_postcode = msgspec.structs.replace(JP, postal_code=None)
    d = route(order(1, [("MUG", 1)], address=no_postcode), seller(), {("osaka", "MUG"): 1})
    assert d.hold.reason is HoldReason.ADDRESS_INCOMPLETE and "postal_code" in d.hold.detail


def test_a_masked_phone_alone_does_not_hold_but_a_withheld_name_or_street_does():
    """TEMU masks the phone in `shippinginfo` and TikTok in `recipient_address`: a warehouse ships with
    a name and a street line, so only those being absent holds the order (before this, every masked
    phone held its order ADDRESS_INCOMPLETE for good)."""
    stock = {("east", "MUG"): 5, ("west", "MUG"): 5}
    phone_masked = msgspec.structs.replace(US, phone=None, pii_complete=False)
    assert route(order(1, [("MUG", 1)], address=phone_masked), seller(), stock).routed
    for withheld in ({"name": None}, {"line1": None}):
        address = msgspec.structs.replace(US, pii_complete=False, **withheld)
        d = route(order(1, [("MUG", 1)], address=address), seller(), stock)
        assert d.hold.reason is HoldReason.ADDRESS_INCOMPLETE and "withheld" in d.hold.detail


def test_a_platform_reported_seller_code_maps_under_identity_but_an_explicit_mapping_wins():
    from config.schema import SkuMapConfig

    identity = SkuMapConfig()
    assert identity.seller_sku("temu", "501009876543210", "OH-SWB-BLACK") == "OH-SWB-BLACK"
    assert identity.seller_sku("temu", "501009876543210", None) == "501009876543210"
    explicit = SkuMapConfig(platforms={"temu": {"501009876543210": "SWB-B"}})
    assert explicit.seller_sku("temu", "501009876543210", "OH-SWB-BLACK") == "SWB-B"
    assert SkuMapConfig(default="none").seller_sku("temu", "501009876543210", "OH-SWB-BLACK") is None


def test_whitespace_a_seller_typed_around_a_sku_does_not_make_it_unknown():
    from config.schema import SkuMapConfig

    explicit = SkuMapConfig(skus={"ACME-MUG-01-FBM": "MUG-01"}, default="none")
    assert explicit.seller_sku("amazon", " ACME-MUG-01-FBM ") == "MUG-01"
    assert SkuMapConfig().seller_sku("temu", "501009876543210", "OH-SWB-BLACK\t") == "OH-SWB-BLACK"
    assert SkuMapConfig().seller_sku("temu", "501009876543210", "  ") == "501009876543210"
