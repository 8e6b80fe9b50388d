"""Benchmark: worker resident memory over a long run of orders (start, after warm-up, peak, end).

    .venv/bin/python -m bench.memory [--orders 1000000] [--wave 2000] [--json]

Orders go through the real pipeline (sync, route, submit to the 4PX emulator) in waves: a wave is put
on the five platforms at once, and once the warehouse has every order of the next wave, it leaves the
emulators and its keys leave Redis (so neither holds a million orders; the workers never see that
clean-up). RSS is the sum over every worker process group (main process and pool children) from /proc,
sampled each second (and PSS, which counts pages a pool child shares with its parent
once). Warm-up ends when 5% of the orders have reached the warehouse. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench._world import (
    PLATFORMS,
    PREFIX,
    SELLER,
    SHOPS,
    Celery,
    Placed,
    World,
    bench_redis,
    kick_syncs,
    procfile_workers,
    seed_ledger,
)
from pipeline import keys
from pipeline.identity import order_key

GOAL_RATIO = 1.10
WARM_UP_SHARE = 0.05


def _wave(world: World, number: int, size: int) -> list[Placed]:
    """`size` orders over the five platforms, visible at once (and older than Amazon's 2-minute horizon)."""
    from datetime import timedelta

    at = world.clock.now().replace(microsecond=0) - timedelta(seconds=150)
    placed: list[Placed] = []
    for i, platform in enumerate(PLATFORMS):
        share = size // len(PLATFORMS) + (1 if i < size % len(PLATFORMS) else 0)
        placed += world.make_orders(platform, [at] * share, seed=number * 10 + i)
    return placed


def _drop_keys(world: World, wave: list[Placed]) -> None:
    """Forget a delivered wave in Redis too: its order, timeline, submission and allocation keys."""
    pipe = world.client.pipeline(transaction=False)
    for p in wave:
        key = order_key(p.platform, SHOPS[p.platform], p.external_id)
        pipe.delete(*(family(PREFIX, SELLER, key) for family in (keys.order, keys.timeline, keys.submitted,
                                                                   keys.allocation, keys.acknowledged)))
        pipe.srem(keys.status_index(PREFIX, SELLER, p.platform, "READY"), key)
        pipe.hdel(keys.references(PREFIX, SELLER), p.reference)
    pipe.execute()


def run(orders: int, wave: int, shared_url: str | None, timeout: float) -> dict[str, Any]:
    samples: list[tuple[float, int, int, int]] = []  # (seconds, orders received, RSS bytes, PSS bytes)
    with bench_redis(shared_url) as (url, shared), tempfile.TemporaryDirectory(prefix="orderhub-mem-") as tmp:
        world = World(url, Path(tmp))
        os.environ.update(world.env())
        seed_ledger(world)
        procs = [Celery(world.env(), name, Path(tmp), queues=queues, concurrency=c)
                 for name, queues, c in procfile_workers()]
        beat = Celery(world.env(), "beat", Path(tmp), beat=True)
        started = time.monotonic()
        try:
            time.sleep(5)  # workers up and pools forked before the first sample
            def sample(now: float, received: int) -> None:
                samples.append((now, received, sum(p.rss_bytes() for p in procs), sum(p.pss_bytes() for p in procs)))

            sample(0.0, 0)
            done, number, last_print, previous = 0, 0, 0.0, []
            kick_syncs(world)
            while done < orders and time.monotonic() - started < timeout:
                current = _wave(world, number, min(wave, orders - done))
                number += 1
                refs = {p.reference for p in current}
                while time.monotonic() - started < timeout:
                    got = world.received_refs(refs)
                    now = time.monotonic() - started
                    sample(now, done + got)
                    if now - last_print >= 10:
                        last_print = now
                        print(f"  {now:7.0f}s  {done + got:>9} orders  {(done + got) / max(now, 1e-9):7.1f}/s  "
                              f"rss {samples[-1][2] / 2**20:7.1f} MiB  pss {samples[-1][3] / 2**20:7.1f} MiB",
                              flush=True)
                    if got >= len(current):
                        break
                    time.sleep(1)
                done += len(current)
                # The wave before this one leaves now, not this one: a sync that listed this wave may still
                # be storing it, and would bring back orders whose keys were just dropped.
                world.forget(previous)
                _drop_keys(world, previous)
                previous = current
            elapsed = time.monotonic() - started
            time.sleep(3)
            sample(time.monotonic() - started, done)
            duplicates = world.duplicates()
        finally:
            for proc in [*procs, beat]:
                proc.stop()
            world.stop()
    return _figures(orders, done, elapsed, samples, duplicates, shared)


def _figures(orders: int, done: int, elapsed: float, samples: list[tuple[float, int, int, int]], duplicates: int,
             shared: bool) -> dict[str, Any]:
    mib = 2**20
    warm = next((s for s in samples if s[1] >= WARM_UP_SHARE * orders), samples[-1])
    rate = done / elapsed if elapsed else 0.0
    figures: dict[str, Any] = {"orders": orders, "received": done, "seconds": round(elapsed, 1),
                               "orders_per_s": round(rate, 1), "warm_up_at_s": round(warm[0], 1),
                               "estimated_hours_for_1m": round(1_000_000 / rate / 3600, 2) if rate else None}
    for name, col in (("rss", 2), ("pss", 3)):
        start, end, peak = samples[0][col], samples[-1][col], max(s[col] for s in samples)
        figures |= {f"{name}_start_mib": round(start / mib, 1), f"{name}_warm_mib": round(warm[col] / mib, 1),
                    f"{name}_peak_mib": round(peak / mib, 1), f"{name}_end_mib": round(end / mib, 1),
                    f"{name}_end_over_warm": round(end / warm[col], 3) if warm[col] else None}
    return figures | {"duplicates": duplicates, "redis": "shared" if shared else "private redis-server"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--wave", type=int, default=2000, help="orders put on the platforms at once")
    parser.add_argument("--timeout", type=float, default=48 * 3600.0, help="stop after this many seconds")
    parser.add_argument("--redis-url", default=None, help="use a shared server (claims an empty database)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args.orders, args.wave, args.redis_url, args.timeout)
    print(f"{'figure':<26}{'value':>14}  {'goal':<10}")
    for key, value in figures.items():
        goal = verdict = ""
        if key in ("rss_end_over_warm", "pss_end_over_warm"):
            goal, verdict = f"<= {GOAL_RATIO}", "met" if value is not None and value <= GOAL_RATIO else "MISSED"
        print(f"{key:<26}{value!s:>14}  {goal:<10}{verdict}")
    if figures["received"] < figures["orders"]:
        print(f"stopped at {figures['received']} of {figures['orders']} orders (timeout); "
              f"1M estimated from the rate: {figures['estimated_hours_for_1m']} h")
    if args.json:
        print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()
