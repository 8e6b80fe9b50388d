"""Benchmark: raw bundle bytes → canonical Order per platform, beside merely parsing the bytes.

    .venv/bin/python -m bench.normalize [--orders 2000] [--rounds 5] [--json]

The bundles are real ones: each platform's connector reads `--orders` orders from its sandbox
emulator, and every bundle is kept as the bytes the store keeps (`pipeline.sync.stored_bytes`).
What is compared, per bundle: `connector.map_raw(raw, shop)`, the very call `pipeline.sync.receive`
makes for every order (decode into the platform's wire Structs, then build the Order), against
`orjson.loads(raw)` of the same bytes. On neither side: making the bytes and hashing them, which
`receive` does before mapping whatever the mapping costs, and stamping the hash on the Order
after it. AliExpress memoises its Pacific UTC offsets per wall-clock hour: warm after the first
round here, as in a sync, whose orders share their hours; the zero amounts ("0.00") every platform
writes out are one shared Money per currency (connectors/values.py), warm after the first order; no other
amount, time or order is memoised, so every round maps each bundle afresh. The figure that matters is the ratio
normalize / parse: how close mapping comes to the cost of reading the input at all (goal: at
least 0.5). Times are this process's CPU time. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import redis

from bench._scratch import scratch_redis
from connectors.ratelimit import RateLimiter
from connectors.registry import PLATFORMS
from orderhub.runtime.logs import configure_logging
from pipeline.ports import ShopRef
from pipeline.sync import stored_bytes
from tests.contract.harness import HARNESSES

GOAL = 0.5


def bundles(platform: str, orders: int, client: redis.Redis, prefix: str) -> list[bytes]:
    """Every raw bundle a full read of the emulator's shop returns, as the bytes sync stores and maps."""
    harness = HARNESSES[platform]
    with harness.emulator(orders=orders, seed=5) as emulator:
        shop, secrets = harness.shop(emulator)
        api = PLATFORMS[platform].client(shop, secrets, RateLimiter(client, prefix))
        until = api.sync_horizon(emulator.clock.now())
        return [stored_bytes(b) for page in api.changed_orders(until - timedelta(days=4), until) for b in page]


def rates(parse, normalize, items: list[bytes], rounds: int) -> tuple[float, float]:
    """Best-of-`rounds` items/s of each in this process's CPU time, the two taking turns: other
    processes on a busy machine then distort neither (wall time would count their turns too)."""
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        for i, work in enumerate((parse, normalize)):
            start = time.process_time()
            work(items)
            best[i] = min(best[i], time.process_time() - start)
    return len(items) / best[0], len(items) / best[1]


def profile(normalize, items: list[bytes], top: int = 10) -> list[str]:
    """Where mapping's time goes: the `top` functions by their own CPU time over one pass of `items`."""
    import cProfile
    import pstats

    profiler = cProfile.Profile(time.process_time)
    profiler.runcall(normalize, items)
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:top]  # type: ignore[attr-defined]
    return [f"{own / total:6.1%}  {own / len(items) * 1e6:6.2f} us/order  {calls / len(items):5.1f}/order  "
            f"{Path(file).name}:{line} {name}" for (file, line, name), (_, calls, own, _, _) in rows]


def run(orders: int, rounds: int, url: str, profile_missed: bool = False) -> dict[str, dict[str, Any]]:
    figures: dict[str, dict[str, Any]] = {}
    with scratch_redis(url) as (client, prefix):
        for platform in sorted(PLATFORMS):
            raw = bundles(platform, orders, client, prefix)
            connector = PLATFORMS[platform]
            ref = ShopRef("bench", platform, f"bench-{platform}")

            def parse(items: list[bytes]) -> None:
                for item in items:
                    orjson.loads(item)

            def normalize(items: list[bytes], connector=connector, ref=ref) -> None:
                for item in items:
                    connector.map_raw(item, ref)  # what sync does per order; no malformed bundles here

            parse_rate, normalize_rate = rates(parse, normalize, raw, rounds)
            figures[platform] = {"bundles": len(raw), "avg_bytes": round(sum(map(len, raw)) / max(1, len(raw))),
                                 "parse_per_s": round(parse_rate), "normalize_per_s": round(normalize_rate),
                                 "ratio": round(normalize_rate / parse_rate, 3)}
            if profile_missed and normalize_rate / parse_rate < GOAL:
                figures[platform]["profile"] = profile(normalize, raw)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="for each platform under the goal, where its time goes")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging(level="WARNING")  # the connectors' per-call debug lines would be the benchmark
    figures = run(args.orders, args.rounds, os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"), args.profile)
    print(f"normalize vs orjson parse, {datetime.now(UTC):%Y-%m-%d}, best of {args.rounds} rounds")
    print(f"{'platform':<11} {'bundles':>7} {'bytes':>6} {'parse/s':>10} {'normalize/s':>12} {'ratio':>6}  goal >= 0.5")
    for platform, f in figures.items():
        print(f"{platform:<11} {f['bundles']:>7} {f['avg_bytes']:>6} {f['parse_per_s']:>10,} "
              f"{f['normalize_per_s']:>12,} {f['ratio']:>6}  {'met' if f['ratio'] >= GOAL else 'missed'}")
    for platform, f in figures.items():
        if f.get("profile"):
            print(f"\n{platform}: own CPU time by function, one pass (cProfile adds its own cost to each call)")
            print("\n".join(f"  {row}" for row in f["profile"]))
    if args.json:
        print(orjson.dumps({"benchmark": "normalize", "figures": figures}).decode())


if __name__ == "__main__":
    main()
