"""Benchmark: webhook ingress latency, a signed push to its reply after the real enqueue (prints figures;
asserts nothing).

    .venv/bin/python -m bench.ingress [--pushes 2000] [--concurrency 20] [--redis-url URL] [--json]

`orderhub webhooks serve` runs as its own process on a private redis-server (or a claimed database of a
shared one), with a TikTok shop whose pushes it verifies. Each of `--concurrency` client threads posts
fresh signed pushes (new notification id, new order id: each is verified, checked, remembered and
enqueued as a `fetch_order` task). Two passes: kept-alive connections (a platform's client pool), then a
new connection per push (a proxy that opens one per request). Latency is the client's, send to reply.
Also printed: the ingress process's CPU per push (from /proc), its RSS before and after, and that every
push got 200 and one task.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import redis

from bench._redis import bench_redis
from tests.security.ingress_harness import PATH, IngressProcess, ingress_env, seller_config_dir, signed_push

GOAL_P99_MS = 50.0  # far inside the platforms' reply timeouts (TikTok, TEMU, SHEIN: seconds), and the 2 s bound


def _pass(port: int, pushes: int, concurrency: int, keep_alive: bool) -> tuple[list[float], dict[Any, int]]:
    """(latencies in ms, statuses counted) for `pushes` pushes over `concurrency` threads."""
    signed = [signed_push() for _ in range(pushes)]
    share = [signed[i::concurrency] for i in range(concurrency)]

    def client(mine: list[tuple[bytes, dict[str, str]]]) -> list[tuple[float, Any]]:
        out: list[tuple[float, Any]] = []
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for body, headers in mine:
            started = time.perf_counter()
            try:
                conn.request("POST", PATH, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status: Any = response.status
            except OSError as exc:
                status = type(exc).__name__
            out.append(((time.perf_counter() - started) * 1000, status))
            if not keep_alive or status != 200:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.close()
        return out

    with ThreadPoolExecutor(concurrency) as pool:
        results = [r for chunk in pool.map(client, share) for r in chunk]
    statuses = [s for _, s in results]
    return [ms for ms, _ in results], {s: statuses.count(s) for s in set(statuses)}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _percentile(values: list[float], q: float) -> float:
    return round(statistics.quantiles(values, n=1000)[int(q * 10) - 1], 1)


def run(pushes: int, concurrency: int, shared_url: str | None) -> dict[str, Any]:
    with bench_redis(shared_url) as (url, shared), tempfile.TemporaryDirectory(prefix="bench-ingress-") as tmp:
        root = Path(tmp)
        env = ingress_env(url, seller_config_dir(root), f"bench-{uuid.uuid4().hex[:8]}")
        ingress = IngressProcess.start(env, root)
        client = redis.Redis.from_url(url)
        try:
            _pass(ingress.port, 20, 4, True)  # warm-up: config loaded, Redis and broker connected
            figures: dict[str, Any] = {"pushes": pushes, "concurrency": concurrency, "shared_redis": shared,
                                       "rss_start_mb": round(ingress.rss_mb(), 1)}
            for label, keep_alive in (("keepalive", True), ("new_conn", False)):
                before, cpu = client.llen("ingest"), cpu_seconds(ingress.proc.pid)
                started = time.perf_counter()
                latencies, statuses = _pass(ingress.port, pushes, concurrency, keep_alive)
                elapsed = time.perf_counter() - started
                cpu = cpu_seconds(ingress.proc.pid) - cpu
                figures[label] = {"p50_ms": _percentile(latencies, 50), "p99_ms": _percentile(latencies, 99),
                                  "max_ms": round(max(latencies), 1), "pushes_per_s": round(pushes / elapsed),
                                  "server_cpu_ms_per_push": round(cpu * 1000 / pushes, 2),
                                  "statuses": {str(k): v for k, v in statuses.items()},
                                  "tasks_enqueued": client.llen("ingest") - before}
            figures["rss_end_mb"] = round(ingress.rss_mb(), 1)
        finally:
            ingress.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--redis-url", default=None, help="claim a database on this shared server instead")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    f = run(args.pushes, args.concurrency, args.redis_url)
    print(f"ingress: {f['pushes']:,} signed pushes per pass, {f['concurrency']} concurrent, real handle_push "
          f"and enqueue ({'shared' if f['shared_redis'] else 'private'} Redis)")
    print(f"{'pass':<10} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'push/s':>7} {'cpu ms':>7} {'tasks':>6}  "
          f"statuses   goal p99 < {GOAL_P99_MS:g} ms")
    for label in ("keepalive", "new_conn"):
        p = f[label]
        print(f"{label:<10} {p['p50_ms']:>7} {p['p99_ms']:>7} {p['max_ms']:>7} {p['pushes_per_s']:>7} "
              f"{p['server_cpu_ms_per_push']:>7} {p['tasks_enqueued']:>6}  {p['statuses']}   "
              f"{'met' if p['p99_ms'] < GOAL_P99_MS else 'missed'}")
    print(f"ingress RSS: {f['rss_start_mb']} MB after warm-up, {f['rss_end_mb']} MB at the end")
    if args.json:
        print(orjson.dumps({"benchmark": "ingress", "figures": f}).decode())


if __name__ == "__main__":
    main()
