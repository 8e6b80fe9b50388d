"""Benchmark: push 100,000 SKUs' stock to each platform, then a 1% change (prints figures; asserts nothing).

    .venv/bin/python -m bench.stock [--skus 100000] [--platform amazon ...] [--json]

Per platform: wall time and calls (from the emulator's own counters) for the full push and for the
push after 1% of the SKUs changed, and the time the platform's limits would impose on those calls.
The emulators run with their limits OFF (no throttling, so the wall time is our cost and the
emulator's); the limit time is computed: (calls - burst) / rate, the burst spent first. Amazon and
TEMU limits are published; TikTok, SHEIN and AliExpress publish none, so the sandbox's assumed ones
stand in. Also printed: the process's resident memory with the 100k-listing emulator up.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import redis

from bench._scratch import scratch_redis
from config.schema import SellerConfig, SkuMapConfig, WarehouseConfig
from connectors.ratelimit import RateLimiter
from connectors.registry import PLATFORMS
from orderhub.runtime.logs import configure_logging
from pipeline.model import StockLevel
from pipeline.stock import StockLedger
from pipeline.stock_sync import sync_shop_stock
from sandbox import AmazonEmulator, RateLimit, TikTokEmulator
from sandbox.aliexpress.emulator import AliExpressEmulator
from sandbox.core.world import CATALOGUE, synthetic_catalogue
from sandbox.shein.emulator import SheinEmulator
from sandbox.temu.emulator import TemuEmulator
from tests.contract.harness import HARNESSES

# The stock operation, the emulator class whose default limits stand for the platform's, the bucket the
# operation draws on there, and whether that limit is published.
STOCK = {
    "amazon": ("patchListingsItem", AmazonEmulator, "patchListingsItem", True),
    "tiktok": ("updateInventory", TikTokEmulator, "updateInventory", False),
    "temu": ("bg.local.goods.stock.edit", TemuEmulator, "router", True),
    "shein": ("changeInventory", SheinEmulator, "changeInventory", False),
    "aliexpress": ("aliexpress.solution.batch.product.inventory.update", AliExpressEmulator,
                   "aliexpress.solution.batch.product.inventory.update", False),
}
CHANGED_SHARE = 100  # one SKU in a hundred changes


def rss_mb() -> float:
    """This process's resident memory (the emulator runs in it)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def limit_seconds(calls: int, limit: RateLimit) -> float:
    """Seconds the platform's bucket imposes on `calls` back to back: the burst first, then the rate."""
    return max(0, calls - limit.burst) / limit.rate


def seller_for(platform: str, shop: Any, listings: list[dict[str, Any]]) -> SellerConfig:
    """A seller whose SKU map lists every listing of the emulator's catalogue (as the contract test does)."""
    sku_map = SkuMapConfig(default="none",
                           platforms={platform: {row["platform_sku"]: row["seller_sku"] for row in listings}},
                           listings={platform: {row["platform_sku"]: row["listing_id"] for row in listings
                                                if row["listing_id"]}})
    return SellerConfig(seller="bench", shops=[shop], sku_map=sku_map,
                        warehouses=[WarehouseConfig(id="wh-1", kind="fourpx", countries=["US"], credentials={})])


def snapshot(ledger: StockLedger, units: dict[str, int], as_of: datetime) -> None:
    ledger.apply_snapshot("bench", "wh-1", [StockLevel(warehouse="wh-1", seller_sku=sku, on_hand=n, as_of=as_of)
                                            for sku, n in units.items()], as_of)


def stock_calls(emulator: Any, operation: str) -> int:
    return emulator.counters.snapshot().get(operation, {}).get("calls", 0)


def timed_push(emulator: Any, operation: str, push: Any) -> tuple[Any, float, int]:
    """Run one stock sync; its report, wall seconds and the stock calls the emulator counted."""
    before = stock_calls(emulator, operation)
    started = time.perf_counter()
    report = push()
    return report, time.perf_counter() - started, stock_calls(emulator, operation) - before


def run_platform(platform: str, skus: int, client_redis: redis.Redis, prefix: str) -> dict[str, Any]:
    operation, emulator_class, bucket, published = STOCK[platform]
    limit = emulator_class.default_rate_limits[bucket]
    harness = HARNESSES[platform]
    base_rss = rss_mb()
    started = time.perf_counter()
    catalogue = CATALOGUE + synthetic_catalogue(skus - len(CATALOGUE))
    with harness.emulator(orders=0, catalogue=catalogue) as emulator:  # the harness's limits: effectively off
        build_seconds = time.perf_counter() - started
        shop, secrets = harness.shop(emulator)
        connector = PLATFORMS[platform]
        client = connector.client(shop, secrets, RateLimiter(client_redis, prefix))
        listings = emulator.stock_listings()
        seller = seller_for(platform, shop, listings)
        ledger = StockLedger(client_redis, prefix)
        as_of = datetime.now(UTC) - timedelta(minutes=5)
        units = {row["seller_sku"]: (i * 7) % 50 for i, row in enumerate(listings)}
        snapshot(ledger, units, as_of)

        def push() -> Any:
            return sync_shop_stock(seller, shop, ledger, client_redis, prefix, connector, client)

        full, full_seconds, full_calls = timed_push(emulator, operation, push)
        for row in listings[::CHANGED_SHARE]:
            units[row["seller_sku"]] += 3
        snapshot(ledger, units, as_of + timedelta(seconds=1))
        change, change_seconds, change_calls = timed_push(emulator, operation, push)
        shown = emulator.stock_levels()
        wrong = sum(1 for row in listings if shown.get(row["platform_sku"]) != units[row["seller_sku"]])
        peak_rss = rss_mb()
    return {
        "platform": platform, "skus": len(listings), "operation": operation,
        "limit": f"{limit.rate:g}/s burst {limit.burst}" + ("" if published else " (sandbox-assumed)"),
        "emulator_build_seconds": round(build_seconds, 2), "rss_mb_added": round(peak_rss - base_rss, 1),
        "full_pushed": full.pushed, "full_refused": len(full.refused), "full_seconds": round(full_seconds, 2),
        "full_calls": full_calls, "full_limit_seconds": round(limit_seconds(full_calls, limit), 1),
        "change_pushed": change.pushed, "change_refused": len(change.refused),
        "change_seconds": round(change_seconds, 2), "change_calls": change_calls,
        "change_limit_seconds": round(limit_seconds(change_calls, limit), 1),
        "platform_shows_wrong": wrong,
    }


def print_row(fig: dict[str, Any]) -> None:
    print(f"\n{fig['platform']}  ({fig['skus']} SKUs; {fig['operation']} at {fig['limit']}; emulator built in "
          f"{fig['emulator_build_seconds']} s, +{fig['rss_mb_added']} MB resident)")
    print(f"  {'phase':<12}{'pushed':>9}{'refused':>9}{'calls':>9}{'wall s':>10}{'limit s':>11}{'limit h':>9}")
    for phase, label in (("full", "all SKUs"), ("change", "1% change")):
        seconds = fig[f"{phase}_limit_seconds"]
        print(f"  {label:<12}{fig[f'{phase}_pushed']:>9}{fig[f'{phase}_refused']:>9}{fig[f'{phase}_calls']:>9}"
              f"{fig[f'{phase}_seconds']:>10}{seconds:>11}{seconds / 3600:>9.2f}")
    shown = "met" if fig["platform_shows_wrong"] == 0 else "missed"
    print(f"  listings the platform shows wrong afterwards (goal 0): {fig['platform_shows_wrong']}  {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--platform", action="append", choices=sorted(STOCK))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging(json=True, level="WARNING")
    figures = []
    with scratch_redis() as (client_redis, prefix):
        for platform in args.platform or sorted(STOCK):
            fig = run_platform(platform, args.skus, client_redis, f"{prefix}-{platform}")
            print_row(fig)
            figures.append(fig)
    if args.json:
        print(orjson.dumps({"stock": figures}).decode())


if __name__ == "__main__":
    main()
