"""Available-to-sell per shop: serving warehouses only, buffer, share, cap, and 0 below the minimum."""

from __future__ import annotations

import pytest

from config.schema import ChannelStockConfig, SellerConfig, ShopConfig, StockConfig, WarehouseConfig
from pipeline.availability import available_to_sell


def seller(**stock) -> SellerConfig:
    return SellerConfig(
        seller="acme",
        shops=[ShopConfig(platform="temu", shop_id="acme-temu-us", credentials={}, countries=["US"]),
               ShopConfig(platform="shein", shop_id="acme-shein-eu", credentials={}, countries=["DE", "FR"]),
               ShopConfig(platform="aliexpress", shop_id="acme-ae", credentials={})],
        warehouses=[WarehouseConfig(id="us-east", kind="fourpx", countries=["US"], credentials={}),
                    WarehouseConfig(id="us-west", kind="shipbob", countries=["US", "CA"], credentials={}),
                    WarehouseConfig(id="de", kind="fourpx", countries=["DE", "FR", "GB"], credentials={})],
        stock=StockConfig(**stock))


AVAILABLE = {("us-east", "MUG"): 7, ("us-west", "MUG"): 5, ("de", "MUG"): 30}


def test_only_warehouses_serving_the_shops_countries_count():
    cfg = seller()
    us = available_to_sell(cfg, cfg.shop("acme-temu-us"), "MUG", AVAILABLE)
    assert us.per_warehouse == {"us-east": 7, "us-west": 5} and us.passed_over == ("de",) and us.quantity == 12
    eu = available_to_sell(cfg, cfg.shop("acme-shein-eu"), "MUG", AVAILABLE)
    assert eu.quantity == 30
    everywhere = available_to_sell(cfg, cfg.shop("acme-ae"), "MUG", AVAILABLE)  # no countries: all warehouses
    assert everywhere.quantity == 42


def test_buffer_then_share_rounded_down_then_cap():
    cfg = seller(safety_buffer=2, platforms={"temu": ChannelStockConfig(share=0.5, max_shown=4)})
    a = available_to_sell(cfg, cfg.shop("acme-temu-us"), "MUG", AVAILABLE)
    assert (a.pool, a.buffer, a.quantity) == (12, 2, 4)  # (12 - 2) * 0.5 = 5, capped at 4
    assert a.explain() == "(us-east 7 + us-west 5) = 12, - buffer 2, x share 0.5, max 4 -> 4"
    uncapped = seller(safety_buffer=3, platforms={"temu": ChannelStockConfig(share=0.5)})
    assert available_to_sell(uncapped, uncapped.shop("acme-temu-us"), "MUG", AVAILABLE).quantity == 4  # 4.5 -> 4


def test_below_the_minimum_shows_zero_and_never_negative():
    cfg = seller(safety_buffer=10, platforms={"acme-temu-us": ChannelStockConfig(min_shown=3)})
    assert available_to_sell(cfg, cfg.shop("acme-temu-us"), "MUG", AVAILABLE).quantity == 0  # 12 - 10 = 2 < 3
    assert available_to_sell(cfg, cfg.shop("acme-temu-us"), "UNKNOWN", AVAILABLE).quantity == 0


def test_a_shop_specific_channel_wins_over_its_platform():
    cfg = seller(platforms={"temu": ChannelStockConfig(share=0.1),
                            "acme-temu-us": ChannelStockConfig(share=1.0, safety_buffer=1)})
    a = available_to_sell(cfg, cfg.shop("acme-temu-us"), "MUG", AVAILABLE)
    assert (a.share, a.buffer, a.quantity) == (1.0, 1, 11)


@pytest.mark.parametrize("units", [0, 1, 2, 5, 40])
def test_never_more_than_the_serving_warehouses_can_promise(units):
    cfg = seller(platforms={"temu": ChannelStockConfig(share=1.0)})
    a = available_to_sell(cfg, cfg.shop("acme-temu-us"), "MUG", {("us-east", "MUG"): units, ("de", "MUG"): 99})
    assert 0 <= a.quantity <= units
