"""`orderhub demo`: the main job on a fresh machine, against the sandbox, until the pipeline is quiet.

Starts the embedded Redis (unless REDIS_URL is set), the platform and warehouse emulators, one
worker and beat as real processes, with the demo sellers of config/sellers. Orders flow from the
emulated shops to the emulated warehouses and tracking flows back; a progress line shows the
counts, and a summary closes the run.

Every count comes from the store's and the pipeline's own reads (`pipeline.progress`), never from
key patterns. Quiet means: no order in an open place (to route, to submit, at a warehouse), no
shipment whose tracking is neither pushed nor refused, no task queued, and nothing changed for a few
seconds. The run exits 0 when quiet and every configured platform delivered orders; 1 at
`--max-seconds` (saying what is still open) or when a platform delivered none.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import click
import redis

from orderhub.demo_decisions import decision_summary, start_short
from orderhub.runtime.redisconn import redis_url, stop_embedded
from pipeline import keys

QUEUES = ("ingest", "route", "dispatch", "tracking", "stock")
QUIET_SECONDS = 8.0
"""How long the counts must stand still, with nothing open, before the run is called quiet."""


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("wb")
    return subprocess.Popen(args, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _kick_off(sellers: list, url: str, client: redis.Redis, prefix: str) -> None:
    """Beat fires an entry only after its first interval: pull every warehouse's inventory now, and once
    the stock is known (routing before it would hold orders for want of stock), start every shop's sync."""
    from celery import Celery

    from connectors.registry import PLATFORMS
    from pipeline.stock import StockLedger
    from workers.app import broker_settings

    sender = Celery("orderhub-demo")
    sender.conf.update(broker_settings(url))  # a Sentinel URL needs its transport options to send at all
    ledger = StockLedger(client, prefix)
    for cfg in sellers:
        for wh in cfg.warehouses:
            sender.send_task("workers.tasks.pull_inventory", (cfg.seller, wh.id), queue="stock")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(
            ledger.reported(cfg.seller) >= {wh.id for wh in cfg.warehouses} for cfg in sellers):
        time.sleep(0.5)
    for cfg in sellers:
        for shop in cfg.shops:
            if shop.enabled and shop.platform in PLATFORMS:
                sender.send_task("workers.tasks.sync_shop", (cfg.seller, shop.shop_id), queue="ingest")


class Tally:
    """Where every order of every demo seller stands (what ops would see), and the broker's backlog."""

    def __init__(self, client: redis.Redis, prefix: str, sellers: list) -> None:
        from pipeline.store import OrderStore

        self.client, self.sellers = client, sellers
        self.store = OrderStore(client, prefix)

    def snapshot(self) -> tuple[list, int]:
        from pipeline.progress import progress

        seen = [progress(self.store, cfg.seller, [wh.id for wh in cfg.warehouses]) for cfg in self.sellers]
        queued = sum(self.client.llen(q) for q in QUEUES) + self.client.hlen("unacked")
        return seen, queued


def _total(seen: list, attribute: str) -> Counter:
    total: Counter = Counter()
    for one in seen:
        total.update(getattr(one, attribute))
    return total


def _line(seen: list, queued: int) -> str:
    places, due = _total(seen, "places"), sum(p.tracking_due for p in seen)
    return (f"stored {sum(places.values()):>4}  to route {places['to route']:>3}  to submit {places['to submit']:>3}  "
            f"at warehouse {places['at warehouse']:>3}  shipped {places['shipped']:>4}  held {places['held']:>3}  "
            f"tracking due {due:>3}  queued {queued:>3}")


def run_demo(orders: int, seed: int, max_seconds: float, config: Path) -> int:
    from config.loader import load_sellers
    from sandbox import EMULATORS, start_emulators
    from sandbox.core.clock import SandboxClock

    started = time.monotonic()
    embedded = not os.environ.get("REDIS_URL")
    url = redis_url()
    prefix = f"demo-{int(time.time())}"
    client = redis.Redis.from_url(url)
    for queue in QUEUES:  # a previous demo cut short may have left tasks behind
        client.delete(queue)
    sellers = load_sellers(config)
    clock = SandboxClock()
    emulators = start_emulators(tuple(EMULATORS), seed=seed, orders=orders, clock=clock)
    for name in ("fourpx", "shipbob"):
        emulators[name].ship_after, emulators[name].pick_after = 20.0, 5.0
    start_short(emulators)
    client.hset(keys.sandbox_endpoints(prefix), mapping={n: e.url for n, e in emulators.items()})
    home = Path(os.environ.get("ORDERHUB_HOME", ".orderhub"))
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, ORDERHUB_PREFIX=prefix, ORDERHUB_CONFIG=str(config.resolve()), LOG_FORMAT="json",
               ORDERHUB_SHIPMENT_POLL_SECONDS="3", ORDERHUB_INVENTORY_SECONDS="5", ORDERHUB_STOCK_SECONDS="5",
               REDIS_URL=url)
    celery = str(Path(sys.executable).parent / "celery")
    # Beat remembers when each entry last ran; a schedule left by an earlier demo would fire every
    # shop's sync at once, before the warehouses' stock is known, and hold orders for want of it.
    for stale in home.glob("demo-beat-schedule*"):
        stale.unlink()
    procs = [
        _start([celery, "-A", "workers", "worker", "-Q", ",".join(QUEUES), "-c", "2", "-n", f"{prefix}@%h",
                "--without-gossip", "--without-mingle", "-l", "warning"], env, home / "demo-worker.log"),
        _start([celery, "-A", "workers", "beat", "-s", str(home / "demo-beat-schedule"), "--max-interval", "1",
                "-l", "warning"], env, home / "demo-beat.log"),
    ]
    _kick_off(sellers, url, client, prefix)
    tally = Tally(client, prefix, sellers)
    quiet_since, last, timed_out = None, None, False
    click.echo(f"demo: Redis {url.split('@')[-1]}, sandbox {', '.join(f'{n} {e.url}' for n, e in emulators.items())}")
    click.echo(f"      key prefix {prefix}; logs in {home}/demo-worker.log and {home}/demo-beat.log")
    try:
        while True:
            time.sleep(2)
            seen, queued = tally.snapshot()
            elapsed = time.monotonic() - started
            now = (_line(seen, queued), [p.open for p in seen])
            click.echo(f"  {elapsed:5.0f}s  {now[0]}")
            settled = sum(p.stored for p in seen) > 0 and queued == 0 and not any(p.open for p in seen)
            if settled and now == last:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= QUIET_SECONDS:
                    break
            else:
                quiet_since = None
            last = now
            if elapsed > max_seconds:
                timed_out = True
                break
    finally:
        for proc in procs:
            _stop(proc)
        for emulator in emulators.values():
            emulator.stop()

    seen, queued = tally.snapshot()
    missing = _summary(seen, queued, emulators, sellers, time.monotonic() - started, timed_out)
    decision_summary(tally.store, sellers)
    where = "" if embedded else f"REDIS_URL={url.split('@')[-1]} "
    click.echo(f"  look closer: {where}ORDERHUB_PREFIX={prefix} orderhub holds list | order show KEY | "
               "stock show SKU")
    if embedded:  # the data stays under .orderhub/; the server itself should not outlive the demo
        stop_embedded()
    return 1 if timed_out or missing else 0


def _summary(seen: list, queued: int, emulators: dict, sellers: list, elapsed: float, timed_out: bool) -> list[str]:
    """Print the closing summary; returns the configured platforms that delivered no order."""
    click.echo("")
    click.echo(f"summary ({elapsed:.0f}s{', stopped at --max-seconds' if timed_out else ', quiet'})")
    for one in seen:
        click.echo(f"  seller {one.seller}")
        click.echo("    orders per platform: " + ", ".join(f"{p} {n}" for p, n in sorted(one.platforms.items())))
        click.echo("    where they stand: " + ", ".join(f"{p} {n}" for p, n in sorted(one.places.items())))
        click.echo("    submitted per warehouse: "
                   + (", ".join(f"{w} {n}" for w, n in sorted(one.warehouses.items())) or "none"))
        click.echo("    held per reason: " + (", ".join(f"{r} {n}" for r, n in sorted(one.holds.items())) or "none"))
    platforms = _total(seen, "platforms")
    click.echo("  platforms: " + ", ".join(f"{p} {n}" for p, n in sorted(platforms.items())))
    tracking = Counter(p["accepted"] for e in emulators.values() for p in e.pushed("tracking"))
    click.echo(f"  tracking pushes the platforms accepted: {tracking[True]}, refused: {tracking[False]} "
               "(see `orderhub order show KEY`)")
    stock = Counter(e.platform for e in emulators.values() for p in e.pushed("stock") if p["accepted"])
    click.echo("  stock numbers accepted by the platforms: "
               + (", ".join(f"{name} {n}" for name, n in sorted(stock.items())) or "none"))
    if timed_out:
        still: Counter = Counter()
        for one in seen:
            still.update(one.open)
        if queued:
            still["tasks queued"] = queued
        click.echo("  still open: " + (", ".join(f"{k} {n}" for k, n in sorted(still.items())) or "nothing"))
    configured = {shop.platform for cfg in sellers for shop in cfg.shops if shop.enabled}
    missing = sorted(p for p in configured if not platforms.get(p))
    if missing:
        click.echo("  no orders from: " + ", ".join(missing))
    return missing
