"""Benchmark: order store upsert throughput on a real Redis (prints figures; asserts nothing).

    .venv/bin/python -m bench.store_upsert [--orders 20000] [--batch 100] [--json]

Measures NEW and UNCHANGED passes in batches, and the Redis commands sent per batch.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid

import orjson
import redis

from pipeline.store import OrderStore
from tests.factories import make_order, received


class CountingRedis(redis.Redis):
    """Counts the commands this client sends (a pipeline or script call is one)."""

    sent = 0

    def execute_command(self, *args, **options):
        CountingRedis.sent += 1
        return super().execute_command(*args, **options)


def run(orders: int, batch: int, url: str) -> dict[str, float]:
    client = CountingRedis.from_url(url)
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    store = OrderStore(client, prefix)
    items = [received(make_order(n)) for n in range(orders)]
    figures: dict[str, float] = {"orders": orders, "batch": batch}
    try:
        for label in ("new", "unchanged"):
            CountingRedis.sent = 0
            start = time.perf_counter()
            for i in range(0, orders, batch):
                store.upsert("bench", items[i:i + batch])
            elapsed = time.perf_counter() - start
            figures[f"{label}_orders_per_s"] = round(orders / elapsed)
            figures[f"{label}_commands_per_batch"] = round(CountingRedis.sent / -(-orders // batch), 2)
    finally:
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    figures = run(args.orders, args.batch, url)
    print(f"{'figure':<24}{'value':>12}")
    for key, value in figures.items():
        print(f"{key:<24}{value:>12}")
    if args.json:
        print(orjson.dumps(figures).decode())


if __name__ == "__main__":
    main()
