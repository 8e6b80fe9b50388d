"""Benchmark: orders through store → close → archive at the store level (prints figures; asserts nothing).

    .venv/bin/python -m bench.history [--orders 1000000] [--backend postgresql|sqlite|both] [--json]

No emulators, no Celery: canonical orders are generated in rounds, upserted (OrderStore.upsert, 500 a
call), closed the cheapest way closing.py allows (platform-fulfilled orders set to stage IGNORED, one
HSET each, what routing does to them) and moved by move_closed with hot_days=0 (the cutoff is now), so
at steady state Redis holds about one round of open orders plus the tombstones of all moved ones. The
orders are one shop's, placed `--per-day` a day over the days before today (tombstones are bucketed by
shop and placed day, pipeline/archive/tombstones.py, so this sets how full the buckets are).

Per backend, on a private redis-server of its own and an archive of its own (a PostgreSQL database
created and dropped by the bench, or a SQLite file in a temporary folder), it prints Redis used_memory
every 10% of the run beside the goal's bound (baseline + open × 8 KB + tombstones × 100 B), bytes per
open order (used_memory delta of the first round's upsert / its orders), bytes per tombstone (used_memory
at the end over the empty baseline / the tombstones Redis holds at the end, counted in their buckets, and
over the memory after the first round / the tombstones added since, which leaves out fixed costs such as
the script cache and the keyspace's tables sized for a round of open orders), archive orders/s
(move_closed end to end, and the archive_orders transactions alone), archive bytes on disk per order
(tables, indexes and TOAST on PostgreSQL; the file on SQLite) beside the raw bytes each order came with
(a real-shaped platform bundle, `PAYLOADS`), and wall time, with the 1,000,000-order time it implies.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from datetime import time as day_start
from pathlib import Path
from typing import Any

import msgspec
import orjson
import psycopg
import redis
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from bench._redis import bench_redis
from orderhub.runtime.logs import configure_logging
from pipeline import keys
from pipeline.archive import create_archive_engine, upgrade
from pipeline.archive import move as move_module
from pipeline.archive.move import MoveReport, move_closed
from pipeline.model import FulfilledBy, utc_now
from pipeline.stages import Stage
from pipeline.store import OrderStore
from tests.factories import make_order, received

SELLER = "acme"
UPSERT_BATCH = 500
OPEN_GOAL_BYTES = 8 * 1024
TOMBSTONE_GOAL_BYTES = 100
PG_GOAL_PER_S = 5_000
MILLION_GOAL_S = 30 * 60
ADMIN_URL = os.environ.get("ORDERHUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def archive_engine(backend: str, admin_url: str) -> Iterator[Engine]:
    """A migrated, empty archive of the bench's own, gone afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="orderhub-bench-archive-") as folder:
            engine = create_archive_engine(f"sqlite+pysqlite:///{Path(folder) / 'archive.sqlite3'}")
            try:
                upgrade(engine)
                yield engine
            finally:
                engine.dispose()
        return
    name = f"orderhub_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        engine = create_archive_engine(make_url(admin_url).set(drivername="postgresql+psycopg", database=name))
        try:
            upgrade(engine)
            yield engine
        finally:
            engine.dispose()
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def timed_archive_writes(spent: list[float]) -> Iterator[None]:
    """Time every archive_orders call move_closed makes (its transaction alone), then put it back."""
    real: Callable[..., int] = move_module.archive_orders

    def timed(engine: Engine, records: Any) -> int:
        start = time.perf_counter()
        try:
            return real(engine, records)
        finally:
            spent.append(time.perf_counter() - start)

    move_module.archive_orders = timed
    try:
        yield
    finally:
        move_module.archive_orders = real


def used_memory(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def tombstones_held(client: redis.Redis, prefix: str) -> int:
    """Tombstones Redis holds: the fields of the seller's tombstone hashes."""
    return sum(client.hlen(key) for key in client.scan_iter(match=keys.tombstones_pattern(prefix, SELLER), count=1000))


def archive_bytes(engine: Engine) -> int:
    """What the archive takes on disk: every table of it with its indexes and TOAST (PostgreSQL), or the
    database file after a checkpoint of its write-ahead log (SQLite)."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            return int(conn.exec_driver_sql(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = "
                "c.relnamespace WHERE c.relkind = 'r' AND n.nspname = current_schema()").scalar_one())
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return Path(engine.url.database or "").stat().st_size


def fixed_costs(client: redis.Redis) -> dict[str, int]:
    """What of used_memory is not data, at the end: client buffers (the last big script call's query
    buffer among them), the script cache, the Lua heap (this server counts it in used_memory; the scripts'
    garbage, bounded by a batch, not by tombstones: ~0.5 MB) and the keyspace's own tables (sized for a
    round of open orders, and not shrunk at once when they leave)."""
    info, db = client.info("memory"), client.memory_stats().get("db.0") or {}
    return {"clients": int(info["mem_clients_normal"]), "scripts": int(info["used_memory_scripts"]),
            "lua_heap": int(info.get("used_memory_vm_eval", info.get("used_memory_lua", 0))),
            "keyspace_tables": int(db.get("overhead.hashtable.main", 0)) + int(db.get("overhead.hashtable.expires", 0))}


FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
PAYLOADS = [orjson.loads((FIXTURES / platform / "as_sent.json").read_bytes())
            for platform in ("aliexpress", "amazon", "shein", "temu", "tiktok")]
"""Each platform's bundle as its connector stores it (tests/fixtures/<platform>/as_sent.json, shaped on the
platform's published examples): the raw payload every bench order carries, so Redis and the archive hold
what they hold in production (about 2.3 KB raw, 0.9 KB compressed, on the demo's orders)."""


def bench_received(n: int, first_day: datetime, per_day: int) -> Any:
    """Order `n` as a sync stores it, with a real-shaped platform bundle (numbered, so each differs)."""
    return received(bench_order(n, first_day, per_day), raw={"bench_order": n, **PAYLOADS[n % len(PAYLOADS)]})


def bench_order(n: int, first_day: datetime, per_day: int) -> Any:
    """Order `n`, platform-fulfilled, placed on the (n // per_day)th day from `first_day`."""
    placed = first_day + timedelta(days=n // per_day, seconds=n % per_day * 86_400 // per_day)
    return msgspec.structs.replace(make_order(n), fulfilled_by=FulfilledBy.PLATFORM, placed_at=placed,
                                   updated_at=placed + timedelta(minutes=1))


def run(backend: str, orders: int, round_size: int, shared_url: str | None, admin_url: str,
        per_day: int = 10_000) -> dict[str, Any]:
    figures: dict[str, Any] = {"backend": backend, "orders": orders, "round": round_size, "per_day": per_day}
    today = datetime.combine(utc_now().date(), day_start(), UTC)
    first_day = today - timedelta(days=-(-orders // per_day))  # the last day is yesterday
    samples: list[dict[str, Any]] = []
    spent: dict[str, float] = {"generate": 0.0, "upsert": 0.0, "close": 0.0, "move": 0.0}
    writes: list[float] = []
    report = MoveReport(seller=SELLER)
    with bench_redis(shared_url) as (url, shared), archive_engine(backend, admin_url) as engine, \
            timed_archive_writes(writes):
        client = redis.Redis.from_url(url)
        # Production's own prefix on a private server, so key names are as long as they will be.
        prefix = f"bench-history-{uuid.uuid4().hex[:8]}" if shared else "orderhub"
        store = OrderStore(client, prefix)
        baseline = used_memory(client)
        start = time.perf_counter()
        done, next_sample, first, raw_bytes = 0, 0.1, (0, 0), 0
        try:
            while done < orders:
                count = min(round_size, orders - done)
                t = time.perf_counter()
                items = [bench_received(n, first_day, per_day) for n in range(done, done + count)]
                spent["generate"] += time.perf_counter() - t
                raw_bytes += sum(len(item.raw) for item in items)

                before = used_memory(client)
                t = time.perf_counter()
                for i in range(0, count, UPSERT_BATCH):
                    store.upsert(SELLER, items[i:i + UPSERT_BATCH])
                spent["upsert"] += time.perf_counter() - t
                if done == 0:  # the sample of open orders: stored, not yet closed
                    figures["bytes_per_open_order"] = round((used_memory(client) - before) / count)

                t = time.perf_counter()
                pipe = client.pipeline(transaction=False)
                for item in items:
                    store.set_stage(SELLER, item.key, Stage.IGNORED, pipe=pipe)
                pipe.execute()
                spent["close"] += time.perf_counter() - t

                t = time.perf_counter()
                moved = move_closed(store, engine, SELLER, utc_now() + timedelta(seconds=1), tombstone_days=90)
                spent["move"] += time.perf_counter() - t
                for field in ("looked_at", "archived", "open", "changed", "unarchivable"):
                    setattr(report, field, getattr(report, field) + getattr(moved, field))
                if done == 0:  # from here on, memory grows by tombstones only
                    first = (used_memory(client), tombstones_held(client, prefix))
                done += count

                if done >= next_sample * orders - 1e-9:  # every 10% of the run (or each round, if coarser)
                    memory = used_memory(client)
                    bound = baseline + round_size * OPEN_GOAL_BYTES + report.archived * TOMBSTONE_GOAL_BYTES
                    samples.append({"share": round(done / orders, 2), "orders": done, "tombstones": report.archived,
                                    "seconds": round(time.perf_counter() - start, 1), "used_memory": memory,
                                    "bound": bound})
                    while next_sample * orders - 1e-9 <= done:
                        next_sample += 0.1
            wall = time.perf_counter() - start
            figures["archive_bytes"] = archive_bytes(engine)
            end_memory = used_memory(client)
            tombstones = tombstones_held(client, prefix)
            fixed = fixed_costs(client)
        finally:
            for key in client.scan_iter(match=f"{prefix}*", count=1000):
                client.delete(key)

    figures |= {"tombstones": tombstones, "fixed_costs_end": fixed,
        "bytes_per_tombstone": round((end_memory - baseline) / tombstones) if tombstones else None,
        "bytes_per_tombstone_after_first_round":
            round((end_memory - first[0]) / (tombstones - first[1])) if tombstones > first[1] else None,
        "used_memory_baseline": baseline, "used_memory_end": end_memory,
        "archived": report.archived, "open": report.open, "changed": report.changed,
        "unarchivable": report.unarchivable,
        "archive_orders_per_s": round(report.archived / spent["move"]) if spent["move"] else None,
        "archive_write_orders_per_s": round(report.archived / sum(writes)) if writes else None,
        "upsert_orders_per_s": round(orders / spent["upsert"]) if spent["upsert"] else None,
        "wall_s": round(wall, 1), "million_estimate_s": round(wall / orders * 1_000_000),
        "raw_bytes_per_order": round(raw_bytes / orders),
        "archive_bytes_per_order": round(figures["archive_bytes"] / report.archived) if report.archived else None,
    }
    figures |= {f"{name}_s": round(seconds, 1) for name, seconds in spent.items()}
    figures["memory_samples"] = samples
    figures["redis"] = "shared" if shared else "private redis-server"
    return figures


def _print(fig: dict[str, Any]) -> None:
    mib = 2**20
    print(f"\n== {fig['backend']}: {fig['orders']:,} orders in rounds of {fig['round']:,}, {fig['per_day']:,} placed "
          f"a day ({fig['redis']})")
    print(f"  {'at':>5} {'orders':>10} {'tombstones':>11} {'seconds':>8} {'used_memory':>14} {'goal bound':>14}")
    for s in fig["memory_samples"]:
        verdict = "met" if s["used_memory"] <= s["bound"] else "MISSED"
        print(f"  {s['share']:>5.0%} {s['orders']:>10,} {s['tombstones']:>11,} {s['seconds']:>8} "
              f"{s['used_memory'] / mib:>10.1f} MiB {s['bound'] / mib:>10.1f} MiB  {verdict}")

    def row(name: str, value: Any, goal: str = "", verdict: str = "") -> None:
        print(f"  {name:<38}{value!s:>16}  {goal:<12}{verdict}")

    print(f"  {'figure':<38}{'value':>16}  {'goal':<12}")
    per_open, per_tomb = fig["bytes_per_open_order"], fig["bytes_per_tombstone"]
    row("bytes per open order", per_open, f"<= {OPEN_GOAL_BYTES}", "met" if per_open <= OPEN_GOAL_BYTES else "MISSED")
    row("bytes per tombstone (all, over empty)", per_tomb, f"<= {TOMBSTONE_GOAL_BYTES}",
        "" if per_tomb is None else "met" if per_tomb <= TOMBSTONE_GOAL_BYTES else "MISSED")
    marginal = fig["bytes_per_tombstone_after_first_round"]
    row("  after the first round's", marginal, f"<= {TOMBSTONE_GOAL_BYTES}",
        "" if marginal is None else "met" if marginal <= TOMBSTONE_GOAL_BYTES else "MISSED")
    rate = fig["archive_orders_per_s"]
    pg_goal = fig["backend"] == "postgresql"
    row("archive orders/s (move_closed)", rate, f">= {PG_GOAL_PER_S}" if pg_goal else "none set",
        ("met" if rate and rate >= PG_GOAL_PER_S else "MISSED") if pg_goal else "")
    row("  of which archive_orders alone", fig["archive_write_orders_per_s"])
    row("upsert orders/s", fig["upsert_orders_per_s"])
    row("archived / open / changed", f"{fig['archived']}/{fig['open']}/{fig['changed']}")
    row("tombstones held at the end", fig["tombstones"])
    fixed = fig["fixed_costs_end"]
    row("not data at end: client/script/Lua/keys",
        f"{fixed['clients']}/{fixed['scripts']}/{fixed['lua_heap']}/{fixed['keyspace_tables']}")
    row("archive bytes per order (on disk)", fig["archive_bytes_per_order"])
    row("  raw payload bytes per order, as received", fig["raw_bytes_per_order"])
    row("seconds: generate/upsert/close/move",
        f"{fig['generate_s']}/{fig['upsert_s']}/{fig['close_s']}/{fig['move_s']}")
    row("wall s", fig["wall_s"])
    est = fig["million_estimate_s"]
    row("1,000,000 orders, s (from this run)", est, f"< {MILLION_GOAL_S}",
        "met" if est < MILLION_GOAL_S else "MISSED")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--round", type=int, default=None,
                        help="orders stored, closed and moved per round (default: 5%% of --orders, 500-10,000)")
    parser.add_argument("--per-day", type=int, default=10_000,
                        help="orders placed a day (default 10,000: one busy shop; sets the tombstone buckets' size)")
    parser.add_argument("--redis-url", default=None, help="use a shared server (claims an empty database)")
    parser.add_argument("--postgres-url", default=ADMIN_URL, help="the server the bench database is created on")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging(json=True, level="WARNING")  # move_closed logs every batch
    round_size = args.round or min(10_000, max(500, args.orders // 20))
    backends = ("postgresql", "sqlite") if args.backend == "both" else (args.backend,)
    results = [run(backend, args.orders, round_size, args.redis_url, args.postgres_url, args.per_day)
               for backend in backends]
    for fig in results:
        _print(fig)
    if args.json:
        print(orjson.dumps(results[0] if len(results) == 1 else {fig["backend"]: fig for fig in results}).decode())


if __name__ == "__main__":
    main()
