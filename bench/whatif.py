"""Benchmark: the routing what-if's replay rate (prints figures beside the goal; asserts nothing).

    .venv/bin/python -m bench.whatif [--orders 200000] [--days 14] [--backend postgresql|sqlite|both] [--json]

Per backend, an archive of the bench's own (a PostgreSQL database created and dropped, or a SQLite file
in a temporary folder, as bench/history.py makes them) is filled with N orders of one seller spread over
the period (routed, split, held for a country no warehouse serves, some short of stock, some with a
ship-by) and a daily stock snapshot per warehouse and SKU; Redis is a scratch prefix with no order. The
timed part is what `orderhub routing whatif` does after loading the config: read the period's orders
and snapshots from the archive in bulk, read the hot tier, replay under the production config and under
a candidate (one warehouse more, priorities changed) and compare. Orders per minute = N / that time,
beside the goal of 100,000 replayed per minute.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from bench._scratch import scratch_redis
from bench.history import ADMIN_URL, archive_engine
from config.schema import RoutingConfig, SellerConfig, WarehouseConfig
from orderhub.runtime.logs import configure_logging
from pipeline.archive import archive_orders, archive_stock
from pipeline.archive.records import ArchivedLine, ArchivedOrder, ArchivedSubmission, StockSnapshot
from pipeline.decisions.replay_orders import archived_replay_orders
from pipeline.decisions.replay_stock import snapshot_days
from pipeline.decisions.whatif import run_what_if
from pipeline.model import Address, FulfilledBy, Hold, HoldReason, OrderStatus
from pipeline.stages import Stage
from pipeline.store import OrderStore

SELLER = "bench-whatif"
GOAL_PER_MINUTE = 100_000
SKUS = 200
WRITE_BATCH = 2_000
UNTIL = datetime(2026, 11, 30, tzinfo=UTC)
ADDRESSES = {
    "US": Address(country="US", name="A Buyer", line1="1 Main St", city="Austin", region="TX", postal_code="78701"),
    "CA": Address(country="CA", name="A Buyer", line1="1 King St", city="Toronto", region="ON", postal_code="M5H"),
    "DE": Address(country="DE", name="A Buyer", line1="Hauptstr. 1", city="Berlin", postal_code="10115"),
    "GB": Address(country="GB", name="A Buyer", line1="1 High St", city="Leeds", postal_code="LS1 1AA"),
    "JP": Address(country="JP", name="A Buyer", line1="1-1 Umeda", city="Osaka", region="Osaka", postal_code="530"),
}
COUNTRIES = ["US"] * 14 + ["CA", "DE", "DE", "GB", "JP"]  # JP: no production warehouse serves it


def _wh(wh_id: str, countries: list[str], country: str, priority: int, cost: float, handling: float) -> WarehouseConfig:
    return WarehouseConfig(id=wh_id, kind="shipbob", credentials={}, countries=countries, country=country,
                           priority=priority, cost_hint=cost, handling_days=handling)


PRODUCTION = SellerConfig(seller=SELLER, routing=RoutingConfig(allow_split=True), warehouses=[
    _wh("us-east", ["US", "CA"], "US", 1, 1.0, 1.0), _wh("us-west", ["US"], "US", 2, 1.2, 2.0),
    _wh("eu-de", ["DE", "GB", "FR"], "DE", 1, 1.5, 1.5)])
CANDIDATE = SellerConfig(seller=SELLER, routing=RoutingConfig(allow_split=True), warehouses=[
    _wh("us-east", ["US", "CA"], "US", 2, 1.0, 1.0), _wh("us-west", ["US"], "US", 1, 1.2, 2.0),
    _wh("eu-de", ["DE", "GB", "FR"], "DE", 1, 1.5, 1.5), _wh("jp-osaka", ["JP"], "JP", 1, 2.0, 1.0)])


def _order(n: int, orders: int, days: int) -> ArchivedOrder:
    placed = UNTIL - timedelta(days=days) + timedelta(seconds=days * 86_400 * n / orders)
    country = COUNTRIES[n % len(COUNTRIES)]
    lines = [(f"SKU-{n % SKUS:04d}", 1 + n % 3)] + ([(f"SKU-{(n * 7) % SKUS:04d}", 1)] if n % 5 == 0 else [])
    held = country == "JP"
    sent = () if held else (("eu-de",) if country in ("DE", "GB") else ("us-east",))
    return ArchivedOrder(
        seller=SELLER, key=f"amazon:shop-1:B{n:09d}", platform="amazon", shop_id="shop-1",
        external_id=f"B{n:09d}", platform_status="shipped", status=OrderStatus.SHIPPED,
        fulfilled_by=FulfilledBy.SELLER, placed_at=placed, updated_at=placed, currency="USD", payload_hash="h",
        raw=b"{}", stage=Stage.HELD if held else Stage.SHIPPED, ship_to=ADDRESSES[country],
        hold=Hold(HoldReason.NO_WAREHOUSE_FOR_COUNTRY, "no warehouse for JP") if held else None,
        ship_by=placed + timedelta(days=1 + n % 3) if n % 2 else None,
        lines=tuple(ArchivedLine(line_no=i, line_ids=(f"B{n}-{i}",), platform_sku=sku, seller_sku=sku,
                                 quantity=qty, shipped_quantity=0 if held else qty,
                                 warehouse=sent[0] if sent else None) for i, (sku, qty) in enumerate(lines)),
        submissions=tuple(ArchivedSubmission(warehouse=wh, reference=f"r{n}", remote_id="x", state="SHIPPED")
                          for wh in sent))


def _snapshots(orders: int, days: int) -> list[StockSnapshot]:
    """Per day, about what a day sells at each warehouse (a little short at us-east: splits and holds)."""
    per_sku_day = orders / days / SKUS * 2.3
    rows = []
    for d in range(days + 1):
        day = (UNTIL - timedelta(days=days + 1 - d)).date()
        taken = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=23)
        for wh, share in (("us-east", 0.6), ("us-west", 0.3), ("eu-de", 0.3), ("jp-osaka", 0.1)):
            rows.extend(StockSnapshot(seller=SELLER, day=day, warehouse=wh, seller_sku=f"SKU-{s:04d}",
                                      on_hand=int(per_sku_day * share * (0.5 + s % 3 / 2)), reserved=0, in_doubt=0,
                                      shipped=0, taken_at=taken) for s in range(SKUS))
    return rows


def run(backend: str, orders: int, days: int, admin_url: str) -> dict[str, Any]:
    since = UNTIL - timedelta(days=days)
    with archive_engine(backend, admin_url) as engine, scratch_redis() as (client, prefix):
        start = time.perf_counter()
        for first in range(0, orders, WRITE_BATCH):
            archive_orders(engine, [_order(n, orders, days) for n in range(first, min(orders, first + WRITE_BATCH))])
        archive_stock(engine, _snapshots(orders, days))
        filled = time.perf_counter() - start

        start = time.perf_counter()
        archived = archived_replay_orders(engine, SELLER, since, UNTIL)
        read_orders = time.perf_counter() - start
        start = time.perf_counter()
        snapshots = snapshot_days(engine, SELLER, since.date(), UNTIL.date())
        read_stock = time.perf_counter() - start
        start = time.perf_counter()
        report = run_what_if(OrderStore(client, prefix), archived, snapshots, PRODUCTION, CANDIDATE, since, UNTIL)
        replay = time.perf_counter() - start
    total = read_orders + read_stock + replay
    return {"backend": backend, "orders": orders, "days": days, "replayed": report.baseline.orders,
            "fill_s": round(filled, 1), "read_orders_s": round(read_orders, 2), "read_stock_s": round(read_stock, 2),
            "replay_both_configs_s": round(replay, 2), "total_s": round(total, 2),
            "orders_per_minute": round(report.baseline.orders / total * 60) if total else None,
            "changed": report.changed, "moved": dict(list(report.moved.items())[:4]),
            "baseline_holds": report.baseline.holds, "candidate_holds": report.candidate.holds,
            "stock_days": report.stock_days}


def _print(fig: dict[str, Any]) -> None:
    print(f"\n== {fig['backend']}: {fig['orders']:,} archived orders over {fig['days']} days "
          f"(filled in {fig['fill_s']} s, not timed)")

    def row(name: str, value: Any, goal: str = "", verdict: str = "") -> None:
        print(f"  {name:<40}{value!s:>14}  {goal:<14}{verdict}")

    print(f"  {'figure':<40}{'value':>14}  {'goal':<14}")
    row("orders replayed", f"{fig['replayed']:,}")
    row("read orders (archive, bulk) s", fig["read_orders_s"])
    row("read stock snapshots s", fig["read_stock_s"])
    row("hot read + replay of both configs s", fig["replay_both_configs_s"])
    row("total s", fig["total_s"])
    rate = fig["orders_per_minute"]
    row("orders replayed per minute", f"{rate:,}", f">= {GOAL_PER_MINUTE:,}",
        "met" if rate and rate >= GOAL_PER_MINUTE else "MISSED")
    row("orders changed outcome", f"{fig['changed']:,}")
    print("  of which (baseline -> candidate): " + "; ".join(f"{moved}: {n:,}" for moved, n in fig["moved"].items()))
    print("  stock days: " + ", ".join(f"{n} from {source}" for source, n in fig["stock_days"].items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--backend", choices=("postgresql", "sqlite", "both"), default="both")
    parser.add_argument("--postgres-url", default=ADMIN_URL, help="the server the bench database is created on")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    configure_logging(json=True, level="WARNING")
    backends = ("postgresql", "sqlite") if args.backend == "both" else (args.backend,)
    results = [run(backend, args.orders, args.days, args.postgres_url) for backend in backends]
    for fig in results:
        _print(fig)
    if args.json:
        print(orjson.dumps(results[0] if len(results) == 1 else {fig["backend"]: fig for fig in results}).decode())


if __name__ == "__main__":
    main()
