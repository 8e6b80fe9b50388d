"""Stock sync against every platform's emulator: 10,000 SKUs pushed once, then a 1% change pushes only
those SKUs, in the fewest calls the platform's API allows; what the platform shows is what we pushed.

The emulators count their calls per operation and keep the last accepted number per SKU, so the
figures come from the platform side, not from our own bookkeeping.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from config.schema import SellerConfig, SkuMapConfig, WarehouseConfig
from connectors.ratelimit import RateLimiter
from connectors.registry import PLATFORMS
from pipeline.model import StockLevel
from pipeline.stock import StockLedger
from pipeline.stock_sync import check_drift, plan, sync_shop_stock
from sandbox.core.world import CATALOGUE, synthetic_catalogue
from tests.contract.harness import HARNESSES

SKUS = 10_000
CHANGED = SKUS // 100
STOCK_OPERATION = {"amazon": "patchListingsItem", "tiktok": "updateInventory", "temu": "bg.local.goods.stock.edit",
                   "shein": "changeInventory", "aliexpress": "aliexpress.solution.batch.product.inventory.update"}


def fewest_calls(platform: str, listings: list[dict]) -> int:
    """What each API allows per call (docs/platforms/*.md)."""
    products = {row["listing_id"] for row in listings}
    if platform == "amazon":
        return len(listings)  # listings PATCH: one SKU per call
    if platform in ("tiktok", "temu"):
        return len(products)  # one product (goods) per call, all its SKUs in it
    if platform == "shein":
        return math.ceil(len(listings) / 100)
    return math.ceil(len(products) / 20)  # AliExpress: 20 products x 200 SKUs per call


def seller_for(platform: str, shop, listings: list[dict]) -> SellerConfig:
    sku_map = SkuMapConfig(default="none",
                           platforms={platform: {row["platform_sku"]: row["seller_sku"] for row in listings}},
                           listings={platform: {row["platform_sku"]: row["listing_id"] for row in listings
                                                if row["listing_id"]}})
    return SellerConfig(seller="acme", shops=[shop], sku_map=sku_map,
                        warehouses=[WarehouseConfig(id="wh-1", kind="fourpx", countries=["US"], credentials={})])


def snapshot(ledger: StockLedger, units: dict[str, int], as_of: datetime) -> None:
    ledger.apply_snapshot("acme", "wh-1", [StockLevel(warehouse="wh-1", seller_sku=sku, on_hand=n, as_of=as_of)
                                           for sku, n in units.items()], as_of)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_ten_thousand_skus_then_a_one_percent_change_pushes_only_that_in_the_fewest_calls(
        platform, redis_client, prefix):
    harness = HARNESSES[platform]
    catalogue = CATALOGUE + synthetic_catalogue(SKUS - len(CATALOGUE))
    with harness.emulator(orders=0, catalogue=catalogue) as emulator:
        shop, secrets = harness.shop(emulator)
        connector = PLATFORMS[platform]
        client = connector.client(shop, secrets, RateLimiter(redis_client, prefix))
        listings = emulator.stock_listings()
        assert len(listings) == SKUS
        seller = seller_for(platform, shop, listings)
        ledger = StockLedger(redis_client, prefix)
        as_of = datetime.now(UTC) - timedelta(minutes=5)
        units = {row["seller_sku"]: (i * 7) % 50 for i, row in enumerate(listings)}
        snapshot(ledger, units, as_of)

        first = sync_shop_stock(seller, shop, ledger, redis_client, prefix, connector, client)
        assert (first.listings, first.pushed, first.refused) == (SKUS, SKUS, {})
        if platform == "amazon":  # above stock.feed_threshold: one JSON_LISTINGS_FEED, not 10,000 PATCHes
            counts = emulator.counters.snapshot()
            assert counts["createFeed"]["calls"] == 1 and "patchListingsItem" not in counts
        calls_before = emulator.counters.snapshot().get(STOCK_OPERATION[platform], {}).get("calls", 0)
        assert sync_shop_stock(seller, shop, ledger, redis_client, prefix, connector, client).pushed == 0

        changed = listings[::SKUS // CHANGED]
        for row in changed:
            units[row["seller_sku"]] += 3
        snapshot(ledger, units, as_of + timedelta(seconds=1))  # the warehouse's next full report
        second = sync_shop_stock(seller, shop, ledger, redis_client, prefix, connector, client)
        calls = emulator.counters.snapshot()[STOCK_OPERATION[platform]]["calls"] - calls_before
        assert (second.pushed, second.refused) == (CHANGED, {})
        assert calls == fewest_calls(platform, changed)

        shown = emulator.stock_levels()
        assert all(shown[row["platform_sku"]] == units[row["seller_sku"]] for row in listings)
        # ...and the explanation ops read (`orderhub stock show`) names the same number.
        for planned in plan(seller, shop, ledger, redis_client, prefix, only={changed[0]["seller_sku"]}):
            assert planned.last_pushed == planned.availability.quantity == shown[planned.listing.platform_sku]


def test_drift_found_on_the_platform_is_pushed_again(redis_client, prefix):
    """Someone edits a SHEIN listing's stock by hand: the drift check sees it, the next sync repairs it."""
    harness = HARNESSES["shein"]
    with harness.emulator(orders=0) as emulator:
        shop, secrets = harness.shop(emulator)
        connector = PLATFORMS["shein"]
        client = connector.client(shop, secrets, RateLimiter(redis_client, prefix))
        listings = emulator.stock_listings()
        seller = seller_for("shein", shop, listings)
        ledger = StockLedger(redis_client, prefix)
        units = {row["seller_sku"]: 5 for row in listings}
        snapshot(ledger, units, datetime.now(UTC))
        assert sync_shop_stock(seller, shop, ledger, redis_client, prefix, connector, client).pushed == len(listings)
        assert check_drift(seller, shop, redis_client, prefix, connector, client) == {}

        edited = listings[3]["platform_sku"]
        with emulator.lock:
            emulator.stock[(next(iter(emulator.shops)), edited)] = 40  # a hand edit in seller centre
        assert emulator.stock_levels()[edited] == 40
        assert check_drift(seller, shop, redis_client, prefix, connector, client) == {edited: (5, 40)}
        repaired = sync_shop_stock(seller, shop, ledger, redis_client, prefix, connector, client)
        assert repaired.pushed == 1 and emulator.stock_levels()[edited] == 5
