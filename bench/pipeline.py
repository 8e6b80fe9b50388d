"""Benchmark: orders per second from the platforms to a warehouse through real workers on a real Redis.

    .venv/bin/python -m bench.pipeline [--backlog 5000] [--rate 20 --seconds 30] [--noop 5000]
        [--layout procfile|single --workers 1 --concurrency 4] [--redis-url URL] [--profile DIR] [--json]

Three measurements in one run, on one private redis-server (or a claimed database of --redis-url):
(c) Celery's no-op task rate with the workers' settings; (a) a backlog of orders present on the five
platforms at once, drained to the 4PX emulator: sustained orders/s, Redis commands and CPU per order;
(b) orders appearing at a steady rate: latency from appearance on the platform's clock to receipt at
the warehouse (poll interval, Amazon's 2-minute listing horizon and processing; not drain time).
Prints figures beside the goals; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

from bench._measure import (
    commandstats,
    percentile,
    ping,
    profiled,
    queues_idle,
    redis_cpu,
    self_cpu,
    stage_seconds,
    task_cpu,
    wait_for,
    workers_cpu,
)
from bench._world import (
    PLATFORMS,
    PREFIX,
    QUEUES,
    Celery,
    Placed,
    World,
    bench_redis,
    commands_processed,
    kick_syncs,
    procfile_workers,
    seed_ledger,
    spread,
)
from pipeline import keys
from workers.common import PROFILE_DIR

GOAL_RATE = 2000.0
GOAL_VS_NOOP = 2.5
GOAL_CPU_MS = 1.0  # worker CPU per order, end to end
GOAL_COMMANDS = 15.0  # Redis commands per order, end to end


def _has_py_spy() -> bool:
    """py-spy samples the emulators too; without it, --profile keeps the workers' cProfile stats only."""
    import shutil
    import sys

    return shutil.which("py-spy") is not None or (Path(sys.executable).parent / "py-spy").exists()


def layout(args: argparse.Namespace) -> list[tuple[str, str, int]]:
    """(name, queues, concurrency) of each worker: the Procfile's, or `--workers` alike on every queue."""
    if args.layout == "procfile":
        return procfile_workers()
    return [(f"w{i}", QUEUES, args.concurrency) for i in range(args.workers)]


def noop_rate(world: World, count: int, workers: list[tuple[str, str, int]], pool: str,
              log_dir: Path) -> dict[str, float]:
    """Tasks/s of a no-op task through the same worker processes (count and concurrency) as the pipeline."""
    from bench._noop import QUEUE, app, noop

    procs = [Celery(world.env(), f"noop-{name}", log_dir, app="bench._noop", concurrency=concurrency,
                    queues=QUEUE, pool=pool) for name, _, concurrency in workers]
    try:
        ping("bench._noop")
        with app.producer_or_acquire() as producer:
            started = time.perf_counter()
            for _ in range(count):
                noop.apply_async(producer=producer)
            published = time.perf_counter() - started
        wait_for(lambda: queues_idle(world.client, QUEUE), 600, interval=0.05)
        elapsed = time.perf_counter() - started
    finally:
        for proc in procs:
            proc.stop()
    return {"noop_tasks_per_s": round(count / elapsed, 1), "noop_publish_per_s": round(count / published, 1)}


def _place(world: World, total: int, start, rate: float | None, seed: int) -> list[Placed]:
    """`total` orders shared evenly over the five platforms, all at `start` or `rate` per second from it."""
    placed: list[Placed] = []
    per = [total // len(PLATFORMS) + (1 if i < total % len(PLATFORMS) else 0) for i in range(len(PLATFORMS))]
    for i, (platform, n) in enumerate(zip(PLATFORMS, per, strict=True)):
        if rate is None:
            moments = [start] * n
        else:  # interleave the platforms on one steady stream
            moments = [m for j, m in enumerate(spread(start, total, rate)) if j % len(PLATFORMS) == i][:n]
        placed += world.make_orders(platform, moments, seed=seed + i)
    return placed


def backlog(world: World, procs: list[Celery], count: int, timeout: float,
            profile: str | None = None) -> dict[str, Any]:
    """(a) Every order visible at once; the clock starts when the syncs are kicked."""
    appear = world.clock.now().replace(microsecond=0) - timedelta(seconds=150)
    placed = _place(world, count, appear, None, seed=100)  # before the 2-minute Amazon horizon too
    world.client.delete(keys.task_seconds(PREFIX), keys.task_cpu_seconds(PREFIX))
    commands0, cpu0, self0, redis0 = (commands_processed(world.client), workers_cpu(procs), self_cpu(),
                                      redis_cpu(world.client))
    stats0 = commandstats(world.client)
    started = time.perf_counter()
    kicked = world.clock.now()
    with profiled({p.log_path.stem: p.pid for p in procs} | {"bench": os.getpid()}, profile):
        kick_syncs(world)
        wait_for(lambda: world.received_count() >= count, timeout, interval=0.1)
    elapsed = time.perf_counter() - started
    received = world.received()
    times = sorted((received[p.reference] - kicked).total_seconds() for p in placed if p.reference in received)
    done = len(times)
    commands = commands_processed(world.client) - commands0
    cpu_workers, cpu_self = workers_cpu(procs) - cpu0, self_cpu() - self0
    cpu_redis = redis_cpu(world.client) - redis0
    first, last = (times[0], times[-1]) if times else (0.0, 0.0)
    stages = stage_seconds(world.client)
    stats = commandstats(world.client)
    by_command = sorted(((n - stats0.get(c, 0), c) for c, n in stats.items()), reverse=True)
    figures = {
        "backlog_orders": count, "backlog_received": done,
        "backlog_seconds": round(elapsed, 2),
        "backlog_orders_per_s": round(done / last, 1) if last else 0.0,
        "backlog_sustained_orders_per_s": round((done - 1) / (last - first), 1) if last > first else 0.0,
        "backlog_first_receipt_s": round(first, 2),
        "backlog_latency_p50_s": round(percentile(times, 50), 2),
        "backlog_latency_p99_s": round(percentile(times, 99), 2),
        "redis_commands_per_order": round(commands / max(done, 1), 1),
        "cpu_ms_per_order_workers": round(cpu_workers * 1000 / max(done, 1), 2),
        "cpu_ms_per_order_emulators_and_bench": round(cpu_self * 1000 / max(done, 1), 2),
        "cpu_ms_per_order_redis": round(cpu_redis * 1000 / max(done, 1), 2),
        "cpu_share_workers": round(cpu_workers / max(elapsed, 1e-9) / 2, 3),
        "cpu_share_emulators_and_bench": round(cpu_self / max(elapsed, 1e-9) / 2, 3),
        "cpu_share_redis": round(cpu_redis / max(elapsed, 1e-9) / 2, 3),
        "duplicates": world.duplicates(),
    }
    # What the workers alone could do on one core (the emulators and the bench share this machine and
    # its two cores: where their CPU is what stops the rate, this is the figure that carries over).
    figures["worker_capacity_orders_per_s_per_core"] = round(1000 / figures["cpu_ms_per_order_workers"], 1) \
        if figures["cpu_ms_per_order_workers"] else 0.0
    wait_for(lambda: queues_idle(world.client), 60)
    shein = sum(1 for p in placed if p.platform == "shein")
    figures["shein_acknowledged"] = f"{len(set(world.platforms['shein'].acknowledged))} of {shein}"
    for n, command in by_command[:12]:
        figures[f"redis_per_order:{command}"] = round(n / max(done, 1), 1)
    for name, seconds in sorted(task_cpu(world.client).items()):
        figures[f"task_cpu_ms_per_order:{name}"] = round(seconds * 1000 / max(done, 1), 3)
    for name, row in sorted(stages.items()):
        figures[f"task_ms_per_order:{name}"] = round(row.get("sum", 0) * 1000 / max(done, 1), 3)
        figures[f"task_count:{name}"] = int(row.get("count", 0))
    world.forget(placed)  # out of the platforms' listings before the steady phase
    return figures


def steady(world: World, rate: float, seconds: float, timeout: float) -> dict[str, Any]:
    """(b) Orders appear at `rate` per second for `seconds`; latency per order from appearance to receipt."""
    count = int(rate * seconds)
    start = world.clock.now() + timedelta(seconds=2)
    placed = _place(world, count, start, rate, seed=500)
    last_appear = max(p.appear_at for p in placed)
    refs = {p.reference for p in placed}
    wait_for(lambda: len(refs & world.received().keys()) >= count,
             (last_appear - world.clock.now()).total_seconds() + timeout, interval=0.5)
    received = world.received()
    latencies = {platform: [] for platform in PLATFORMS}
    for p in placed:
        if p.reference in received:
            latencies[p.platform].append((received[p.reference] - p.appear_at).total_seconds())
    every = sorted(x for v in latencies.values() for x in v)
    not_amazon = sorted(x for name, v in latencies.items() if name != "amazon" for x in v)
    figures = {"steady_rate": rate, "steady_orders": count, "steady_received": len(every),
               "steady_latency_p50_s": round(percentile(every, 50), 2),
               "steady_latency_p99_s": round(percentile(every, 99), 2),
               "steady_latency_p50_s_without_amazon": round(percentile(not_amazon, 50), 2),
               "steady_latency_p99_s_without_amazon": round(percentile(not_amazon, 99), 2)}
    for name, values in latencies.items():
        figures[f"steady_latency_p50_s:{name}"] = round(percentile(sorted(values), 50), 2)
    world.forget(placed)
    return figures


def run(args: argparse.Namespace) -> dict[str, Any]:
    with bench_redis(args.redis_url) as (url, shared), tempfile.TemporaryDirectory(prefix="orderhub-bench-") as tmp:
        work = Path(tmp)
        world = World(url, work, poll_seconds=args.poll)
        workers = layout(args)
        figures: dict[str, Any] = {"redis": "shared server, other users' commands included" if shared
                                   else "private redis-server",
                                   "workers": " ".join(f"{n}:{q}:c{c}" for n, q, c in workers), "pool": args.pool}
        try:
            os.environ.update(world.env())
            seed_ledger(world)
            figures |= noop_rate(world, args.noop, workers, args.pool, work)
            env = world.env(**({PROFILE_DIR: str(Path(args.profile).resolve())} if args.profile else {}))
            if args.profile:
                Path(args.profile).mkdir(parents=True, exist_ok=True)
            procs = [Celery(env, name, work, queues=queues, concurrency=concurrency, pool=args.pool)
                     for name, queues, concurrency in workers]
            procs.append(Celery(world.env(), "beat", work, beat=True))
            try:
                ping("workers")
                if args.backlog:
                    figures |= backlog(world, procs, args.backlog, args.timeout,
                                       args.profile if _has_py_spy() else None)
                if args.rate and args.seconds:
                    figures |= steady(world, args.rate, args.seconds, args.timeout)
            finally:
                for proc in procs:
                    proc.stop()
                if args.keep_logs:
                    for log in work.glob("*.log"):
                        Path(args.keep_logs).mkdir(parents=True, exist_ok=True)
                        (Path(args.keep_logs) / log.name).write_bytes(log.read_bytes())
        finally:
            world.stop()
    rate = figures.get("backlog_sustained_orders_per_s", 0.0)
    figures["pipeline_vs_noop"] = round(rate / figures["noop_tasks_per_s"], 2) if figures.get("noop_tasks_per_s") else 0
    return figures


def report(figures: dict[str, Any]) -> None:
    rate, ratio = figures.get("backlog_sustained_orders_per_s", 0.0), figures.get("pipeline_vs_noop", 0.0)
    print(f"{'figure':<44}{'value':>14}  {'goal':<14}{'':<8}")
    cpu, commands = figures.get("cpu_ms_per_order_workers"), figures.get("redis_commands_per_order")
    goals = {"backlog_sustained_orders_per_s": (f">= {GOAL_RATE:.0f}/s", rate >= GOAL_RATE),
             "pipeline_vs_noop": (f">= {GOAL_VS_NOOP}x", ratio >= GOAL_VS_NOOP)}
    if cpu is not None:
        goals["cpu_ms_per_order_workers"] = (f"<= {GOAL_CPU_MS} ms", cpu <= GOAL_CPU_MS)
    if commands is not None:
        goals["redis_commands_per_order"] = (f"<= {GOAL_COMMANDS:.0f}", commands <= GOAL_COMMANDS)
    for key, value in figures.items():
        goal, met = goals.get(key, ("", None))
        verdict = "" if met is None else ("met" if met else "MISSED")
        print(f"{key:<44}{value!s:>14}  {goal:<14}{verdict:<8}")
    print("backlog latency = time from the syncs' kick to receipt (all orders present at once: drain time);")
    print("steady latency = from an order's appearance on its platform clock to 4PX receipt (poll + processing;")
    print("Amazon lists only orders older than 2 minutes, as SP-API requires).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=5000, help="orders present at once (0: skip)")
    parser.add_argument("--rate", type=float, default=20.0, help="steady orders/s, below capacity (0: skip)")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long orders keep appearing")
    parser.add_argument("--noop", type=int, default=5000, help="no-op tasks for Celery's own rate")
    parser.add_argument("--layout", choices=("procfile", "single"), default="procfile",
                        help="the Procfile's workers, or --workers alike on every queue")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--pool", default="prefork")
    parser.add_argument("--poll", type=int, default=10, help="seconds between syncs of a shop (config minimum 10)")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--redis-url", default=None, help="use a shared server (claims an empty database)")
    parser.add_argument("--keep-logs", default=None, help="copy worker logs to this folder")
    parser.add_argument("--profile", default=None, help="profile into this folder: each worker's tasks with cProfile (<task>.<pid>.prof), "
                        "and with py-spy (when installed) the workers and emulators during the backlog")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args)
    report(figures)
    if args.json:
        print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()
