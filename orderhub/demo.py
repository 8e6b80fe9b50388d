"""`orderhub demo`: the main job on a fresh machine, against the sandbox, until the pipeline is quiet.

Starts the embedded Redis (unless REDIS_URL is set), the platform and warehouse emulators, one
worker and beat as real processes, with the demo sellers of config/sellers. Orders flow from the
emulated shops to the emulated warehouses and tracking flows back; a progress line shows the
counts, and a summary closes the run. Shops of platforms without a connector yet are skipped.
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

from orderhub.redisconn import celery_url, redis_url, stop_embedded
from orderhub.wiring import SANDBOX_ENDPOINTS

QUEUES = ("ingest", "route", "dispatch", "tracking", "stock")


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


def _kick_off(config: Path, broker: str, client: redis.Redis, prefix: str) -> None:
    """Beat fires an entry only after its first interval: pull every warehouse's inventory now, and once
    the stock is known (routing before it would hold orders for want of stock), start every shop's sync."""
    from celery import Celery

    from config.loader import load_sellers
    from connectors.registry import PLATFORMS

    sender = Celery("orderhub-demo", broker=broker)
    sellers = load_sellers(config)
    for cfg in sellers:
        for wh in cfg.warehouses:
            sender.send_task("workers.tasks.pull_inventory", (cfg.seller, wh.id), queue="stock")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(
            client.hlen(f"{prefix}:{cfg.seller}:stock:asof") >= len(cfg.warehouses) for cfg in sellers):
        time.sleep(0.5)
    for cfg in sellers:
        for shop in cfg.shops:
            if shop.enabled and shop.platform in PLATFORMS:
                sender.send_task("workers.tasks.sync_shop", (cfg.seller, shop.shop_id), queue="ingest")


class Tally:
    """Counts read straight from Redis (what ops would see), for the progress line and the summary."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client, self.prefix = client, prefix

    def _count(self, pattern: str) -> int:
        return sum(1 for _ in self.client.scan_iter(match=f"{self.prefix}:{pattern}", count=1000))

    def snapshot(self) -> dict[str, int]:
        return {"stored": self._count("*:o:*"), "submitted": self._count("*:submitted:*"),
                "shipped": self._count("*:shipments:*"), "tracking": self._count("*:tracking_pushed:*"),
                "refused": self._count("*:tracking_refused:*"),
                "queued": sum(self.client.llen(q) for q in QUEUES) + self.client.hlen("unacked")}


def run_demo(orders: int, seed: int, max_seconds: float, config: Path) -> int:
    from pipeline.store import OrderStore
    from sandbox import EMULATORS, start_emulators
    from sandbox.clock import SandboxClock

    started = time.monotonic()
    embedded = not os.environ.get("REDIS_URL")
    url = redis_url()
    prefix = f"demo-{int(time.time())}"
    client = redis.Redis.from_url(url)
    for queue in QUEUES:  # a previous demo cut short may have left tasks behind
        client.delete(queue)
    clock = SandboxClock()
    emulators = start_emulators(tuple(EMULATORS), seed=seed, orders=orders, clock=clock)
    for name in ("fourpx", "shipbob"):
        emulators[name].ship_after, emulators[name].pick_after = 20.0, 5.0
    client.hset(f"{prefix}:{SANDBOX_ENDPOINTS}", mapping={n: e.url for n, e in emulators.items()})
    home = Path(os.environ.get("ORDERHUB_HOME", ".orderhub"))
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, ORDERHUB_PREFIX=prefix, ORDERHUB_CONFIG=str(config.resolve()), LOG_FORMAT="json",
               ORDERHUB_SHIPMENT_POLL_SECONDS="3", ORDERHUB_INVENTORY_SECONDS="5", ORDERHUB_STOCK_SECONDS="5",
               REDIS_URL=url)
    celery = str(Path(sys.executable).parent / "celery")
    procs = [
        _start([celery, "-A", "workers", "worker", "-Q", ",".join(QUEUES), "-c", "2", "-n", f"{prefix}@%h",
                "--without-gossip", "--without-mingle", "-l", "warning"], env, home / "demo-worker.log"),
        _start([celery, "-A", "workers", "beat", "-s", str(home / "demo-beat-schedule"), "--max-interval", "1",
                "-l", "warning"], env, home / "demo-beat.log"),
    ]
    _kick_off(config, celery_url(url), client, prefix)
    tally = Tally(client, prefix)
    quiet_since, last, timed_out = None, None, False
    click.echo(f"demo: Redis {url.split('@')[-1]}, sandbox {', '.join(f'{n} {e.url}' for n, e in emulators.items())}")
    try:
        while True:
            time.sleep(2)
            now = tally.snapshot()
            elapsed = time.monotonic() - started
            click.echo(f"  {elapsed:5.0f}s  stored {now['stored']:>4}  submitted {now['submitted']:>4}  "
                       f"shipped {now['shipped']:>4}  tracking pushed {now['tracking']:>4}  queued {now['queued']:>3}")
            open_outbounds = any(o.status in ("S", "P") for o in emulators["fourpx"].outbounds.values()) or \
                any(o.status == "Processing" for o in emulators["shipbob"].sb_orders.values())
            settled = now["stored"] > 0 and now["queued"] == 0 and not open_outbounds and \
                now["tracking"] + now["refused"] >= now["shipped"]
            if settled and now == last:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= 8:
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

    store = OrderStore(client, prefix)
    click.echo("")
    click.echo(f"summary ({time.monotonic() - started:.0f}s{', stopped at --max-seconds' if timed_out else ''})")
    for seller in store.sellers():
        per_platform = Counter()
        for (platform, _status), n in store.status_counts(seller).items():
            per_platform[platform] += n
        click.echo(f"  seller {seller}")
        click.echo("    orders per platform: " + ", ".join(f"{p} {n}" for p, n in sorted(per_platform.items())))
        per_warehouse = Counter()
        for key in client.scan_iter(match=f"{prefix}:{seller}:submitted:*"):
            for wh in client.hkeys(key):
                per_warehouse[wh.decode()] += 1
        click.echo("    submitted per warehouse: " + (", ".join(f"{w} {n}" for w, n in sorted(per_warehouse.items()))
                                                     or "none"))
        holds = {r.value: len(k) for r, k in store.holds(seller).items() if k}
        click.echo("    held per reason: " + (", ".join(f"{r} {n}" for r, n in sorted(holds.items())) or "none"))
    final = tally.snapshot()
    pushed = sum(1 for e in emulators.values() for p in e.pushed("tracking") if p["accepted"])
    click.echo(f"  tracking pushed: {final['tracking']} (platforms accepted {pushed}), refused by the platform: "
               f"{final['refused']} (see `orderhub order show KEY`)")
    stock = Counter(e.platform for e in emulators.values() for p in e.pushed("stock") if p["accepted"])
    click.echo("  stock numbers accepted by the platforms: "
               + (", ".join(f"{name} {n}" for name, n in sorted(stock.items())) or "none"))
    if embedded:  # the data stays under .orderhub/; the server itself should not outlive the demo
        stop_embedded()
    return 1 if timed_out else 0
