"""Benchmark: push 100,000 SKUs' stock to each platform, then a 1% change (prints figures; asserts nothing).

    .venv/bin/python -m bench.stock [--skus 100000] [--platform amazon ...] [--feed-threshold 500] [--json]

Per platform: wall time and calls (from the emulator's own counters) for the full push and for the
push after 1% of the SKUs changed, and the time the platform's limits would impose on those calls.
Amazon sends a change of more than `stock.feed_threshold` listings (500) as JSON_LISTINGS_FEED feeds of
25,000: its calls are those of every Feeds operation (document, upload, createFeed, getFeed, report)
plus the PATCHes, and the full push takes several sync runs (`runs`): the emulator keeps each feed
IN_QUEUE then IN_PROGRESS for a few sandbox minutes, and each later run (beat's, every
`stock.interval_seconds`; here the sandbox clock is moved on a minute between runs) reads the outcomes.
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
from config.schema import SellerConfig, SkuMapConfig, StockConfig, WarehouseConfig
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
# Amazon's bulk path: the Feeds operations a push may use besides the per-listing one (their limits are
# the emulator's, from the published model; the presigned document URLs have none).
FEED_OPERATIONS = {"amazon": ("createFeedDocument", "uploadFeedDocument", "createFeed", "getFeed", "getFeeds",
                              "getFeedDocument", "downloadFeedDocument")}
EMULATOR_SETTINGS = {"amazon": {"feed_queue_seconds": 30.0, "feed_processing_seconds": 90.0}}
BETWEEN_RUNS = 60.0  # sandbox seconds between two sync runs while feeds are open


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


def seller_for(platform: str, shop: Any, listings: list[dict[str, Any]],
               feed_threshold: int = StockConfig().feed_threshold) -> SellerConfig:
    """A seller whose SKU map lists every listing of the emulator's catalogue (as the contract test does)."""
    sku_map = SkuMapConfig(default="none",
                           platforms={platform: {row["platform_sku"]: row["seller_sku"] for row in listings}},
                           listings={platform: {row["platform_sku"]: row["listing_id"] for row in listings
                                                if row["listing_id"]}})
    return SellerConfig(seller="bench", shops=[shop], sku_map=sku_map, stock=StockConfig(feed_threshold=feed_threshold),
                        warehouses=[WarehouseConfig(id="wh-1", kind="fourpx", countries=["US"], credentials={})])


def snapshot(ledger: StockLedger, units: dict[str, int], as_of: datetime) -> None:
    ledger.apply_snapshot("bench", "wh-1", [StockLevel(warehouse="wh-1", seller_sku=sku, on_hand=n, as_of=as_of)
                                            for sku, n in units.items()], as_of)


def stock_calls(emulator: Any, operations: tuple[str, ...]) -> dict[str, int]:
    counts = emulator.counters.snapshot()
    return {op: counts.get(op, {}).get("calls", 0) for op in operations}


def timed_push(emulator: Any, operations: tuple[str, ...], push: Any) -> tuple[Any, float, dict[str, int], int]:
    """Sync runs until no feed is open; the merged report, wall seconds, stock calls by operation, runs."""
    before = stock_calls(emulator, operations)
    started = time.perf_counter()
    report, runs = push(), 1
    while report.feeds_open:
        emulator.clock.advance(BETWEEN_RUNS)
        later = push()
        runs += 1
        report.pushed += later.pushed
        report.refused |= later.refused
        report.feeds_open = later.feeds_open
    after = stock_calls(emulator, operations)
    calls = {op: after[op] - before[op] for op in operations if after[op] - before[op]}
    return report, time.perf_counter() - started, calls, runs


def limits_seconds(calls: dict[str, int], operation: str, limit: RateLimit, emulator_class: Any) -> float:
    """The time the platform's buckets impose on these calls, one operation after the other (the stock
    operation's bucket as given; a Feeds operation's from the emulator's published defaults)."""
    limits = {**emulator_class.default_rate_limits, operation: limit}
    return sum(limit_seconds(n, limits[op]) for op, n in calls.items() if op in limits)


def run_platform(platform: str, skus: int, client_redis: redis.Redis, prefix: str,
                 feed_threshold: int = StockConfig().feed_threshold) -> dict[str, Any]:
    operation, emulator_class, bucket, published = STOCK[platform]
    limit = emulator_class.default_rate_limits[bucket]
    harness = HARNESSES[platform]
    base_rss = rss_mb()
    started = time.perf_counter()
    catalogue = CATALOGUE + synthetic_catalogue(skus - len(CATALOGUE))
    operations = (operation, *FEED_OPERATIONS.get(platform, ()))
    with harness.emulator(orders=0, catalogue=catalogue, **EMULATOR_SETTINGS.get(platform, {})) as emulator:
        # the harness's limits: effectively off (the Feeds operations keep the emulator's published ones)
        build_seconds = time.perf_counter() - started
        shop, secrets = harness.shop(emulator)
        connector = PLATFORMS[platform]
        client = connector.client(shop, secrets, RateLimiter(client_redis, prefix))
        listings = emulator.stock_listings()
        seller = seller_for(platform, shop, listings, feed_threshold)
        ledger = StockLedger(client_redis, prefix)
        as_of = datetime.now(UTC) - timedelta(minutes=5)
        units = {row["seller_sku"]: (i * 7) % 50 for i, row in enumerate(listings)}
        snapshot(ledger, units, as_of)

        def push() -> Any:
            return sync_shop_stock(seller, shop, ledger, client_redis, prefix, connector, client, feed_wait=0)

        full, full_seconds, full_by_op, full_runs = timed_push(emulator, operations, push)
        for row in listings[::CHANGED_SHARE]:
            units[row["seller_sku"]] += 3
        snapshot(ledger, units, as_of + timedelta(seconds=1))
        change, change_seconds, change_by_op, change_runs = timed_push(emulator, operations, push)
        shown = emulator.stock_levels()
        wrong = sum(1 for row in listings if shown.get(row["platform_sku"]) != units[row["seller_sku"]])
        peak_rss = rss_mb()
        full_limit, change_limit = (limits_seconds(by_op, operation, limit, emulator_class)
                                     for by_op in (full_by_op, change_by_op))
    return {
        "platform": platform, "skus": len(listings), "operation": operation,
        "limit": f"{limit.rate:g}/s burst {limit.burst}" + ("" if published else " (sandbox-assumed)"),
        "emulator_build_seconds": round(build_seconds, 2), "rss_mb_added": round(peak_rss - base_rss, 1),
        "full_pushed": full.pushed, "full_refused": len(full.refused), "full_seconds": round(full_seconds, 2),
        "full_calls": sum(full_by_op.values()), "full_calls_by_operation": full_by_op, "full_runs": full_runs,
        "full_limit_seconds": round(full_limit, 1),
        "change_pushed": change.pushed, "change_refused": len(change.refused),
        "change_seconds": round(change_seconds, 2), "change_calls": sum(change_by_op.values()),
        "change_calls_by_operation": change_by_op, "change_runs": change_runs,
        "change_limit_seconds": round(change_limit, 1),
        "platform_shows_wrong": wrong,
    }


def print_row(fig: dict[str, Any]) -> None:
    print(f"\n{fig['platform']}  ({fig['skus']} SKUs; {fig['operation']} at {fig['limit']}; emulator built in "
          f"{fig['emulator_build_seconds']} s, +{fig['rss_mb_added']} MB resident)")
    print(f"  {'phase':<12}{'pushed':>9}{'refused':>9}{'calls':>9}{'runs':>6}{'wall s':>10}{'limit s':>11}"
          f"{'limit h':>9}")
    for phase, label in (("full", "all SKUs"), ("change", "1% change")):
        seconds = fig[f"{phase}_limit_seconds"]
        print(f"  {label:<12}{fig[f'{phase}_pushed']:>9}{fig[f'{phase}_refused']:>9}{fig[f'{phase}_calls']:>9}"
              f"{fig[f'{phase}_runs']:>6}{fig[f'{phase}_seconds']:>10}{seconds:>11}{seconds / 3600:>9.2f}")
        by_op = fig[f"{phase}_calls_by_operation"]
        if len(by_op) > 1:
            print("  " + " " * 12 + ", ".join(f"{op} {n}" for op, n in by_op.items()))
    shown = "met" if fig["platform_shows_wrong"] == 0 else "missed"
    print(f"  listings the platform shows wrong afterwards (goal 0): {fig['platform_shows_wrong']}  {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--platform", action="append", choices=sorted(STOCK))
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--feed-threshold", type=int, default=StockConfig().feed_threshold,
                        help="stock.feed_threshold: changes above it go as bulk feeds where the platform takes them")
    args = parser.parse_args()
    configure_logging(json=True, level="WARNING")
    figures = []
    with scratch_redis() as (client_redis, prefix):
        for platform in args.platform or sorted(STOCK):
            fig = run_platform(platform, args.skus, client_redis, f"{prefix}-{platform}", args.feed_threshold)
            print_row(fig)
            figures.append(fig)
    if args.json:
        print(orjson.dumps({"stock": figures}).decode())


if __name__ == "__main__":
    main()
