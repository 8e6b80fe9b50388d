"""The chaos world: the five marketplace and two warehouse emulators with faults on, the acme seller
file of the worker tests, Celery workers and beat on the chaos Redis, and the webhook receiver.

Every emulator sells to US buyers only, so every generated order belongs to a shop Orderhub is
configured for and "orders seen" is the whole generated book. Warehouses hold finite stock, sized
from the order count, so some orders wait INSUFFICIENT_STOCK and overselling would show.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis

from pipeline import keys
from sandbox import AmazonEmulator, RateLimit, SandboxClock, TikTokEmulator
from sandbox.aliexpress.emulator import AliExpressEmulator
from sandbox.core.demo_accounts import ALIEXPRESS_DEMO_ACCOUNTS
from sandbox.core.generator import EventKind as ScriptKind
from sandbox.core.generator import GeneratorSettings, OrderEvent, Status, random_address
from sandbox.fourpx.emulator import FourPXEmulator
from sandbox.shein.emulator import SheinEmulator
from sandbox.shipbob.emulator import ShipBobEmulator
from sandbox.temu.emulator import TemuEmulator
from tests.chaos.redis_server import free_port
from tests.integration.conftest import PREFIX, SELLER
from tests.integration.workers import WorkerProcess
from tests.processes import stop_process

PLATFORMS = ("amazon", "tiktok", "temu", "shein", "aliexpress")
WAREHOUSES = ("fourpx", "shipbob")
WEBHOOK_SHOPS = {"tiktok": "acme-tiktok-us", "temu": "acme-temu-us", "shein": "acme-shein-us"}
READ_TIMEOUT = 3.0  # every client's read timeout in the run (ORDERHUB_HTTP_READ_TIMEOUT, connectors/http.py)
GENEROUS = RateLimit(500.0, 500)
WAREHOUSE_PACE = 'rate_limit = "500", rate_burst = "500"'  # warehouse options (connectors/warehouses/limits.py)


def _us_only(cls):
    """The emulator with every generated order placed by a US buyer (the acme shops are the US ones)."""
    return type(f"USOnly{cls.__name__}", (cls,), {"countries": lambda self: ("US",)})


@dataclass(frozen=True)
class Faults:
    """The issue's rates; timeouts hold the answer just past the client's read timeout."""

    error_rate: float = 0.05
    throttle_rate: float = 0.02
    timeout_rate: float = 0.01
    malformed_rate: float = 0.005

    def platform(self, seed: int) -> dict:
        return {"seed": seed, "error_rate": self.error_rate, "throttle_rate": self.throttle_rate,
                "timeout_rate": self.timeout_rate, "timeout_seconds": READ_TIMEOUT + 1,
                "malformed_rate": self.malformed_rate}

    def warehouse(self, seed: int) -> dict:
        return {"seed": seed, "error_rate": self.error_rate, "throttle_rate": self.throttle_rate,
                "timeout_rate": self.timeout_rate, "timeout_seconds": READ_TIMEOUT + 1}


def start_emulators(orders: int, seed: int, stock: int, faults: Faults) -> dict:
    """Five platforms sharing `orders` between them, two warehouses with `stock` units per SKU."""
    clock = SandboxClock(factor=1.0)
    # No orders in the sandbox future: every order the run counts is there from the start.
    gen = GeneratorSettings(future=timedelta(0))
    share = orders // len(PLATFORMS)
    counts = {p: share + (1 if i < orders % len(PLATFORMS) else 0) for i, p in enumerate(PLATFORMS)}

    def limits(cls) -> dict:
        return {op: GENEROUS for op in cls.default_rate_limits}

    ali_accounts = (replace(ALIEXPRESS_DEMO_ACCOUNTS[0], countries=("US",)),)
    emulators = {
        "amazon": _us_only(AmazonEmulator)(clock=clock, orders=counts["amazon"], seed=seed + 1, generator=gen,
                                          rate_limits=limits(AmazonEmulator)),
        "tiktok": _us_only(TikTokEmulator)(clock=clock, orders=counts["tiktok"], seed=seed + 2, generator=gen,
                                          rate_limits=limits(TikTokEmulator)),
        "temu": _us_only(TemuEmulator)(clock=clock, orders=counts["temu"], seed=seed + 3, generator=gen,
                                      rate_limits=limits(TemuEmulator)),
        "shein": _us_only(SheinEmulator)(clock=clock, orders=counts["shein"], seed=seed + 4, generator=gen,
                                        rate_limits=limits(SheinEmulator)),
        "aliexpress": AliExpressEmulator(ali_accounts, clock=clock, orders=counts["aliexpress"], seed=seed + 5,
                                         generator=gen, rate_limits=limits(AliExpressEmulator)),
        "fourpx": FourPXEmulator(clock=clock, initial_stock=stock, pick_after=3, ship_after=20),
        "shipbob": ShipBobEmulator(clock=clock, initial_stock=stock, ship_after=20, per_minute=60_000),
    }
    for i, (name, emulator) in enumerate(emulators.items()):
        emulator.configure_faults(**(faults.platform(seed * 10 + i) if name in PLATFORMS
                                     else faults.warehouse(seed * 10 + i)))
        emulator.start()
    return emulators


def settle_platforms(platforms: Iterable) -> datetime:
    """Stop the platforms' own scripted changes now; returns the moment of the cut.

    The generated book keeps paying, shipping and cancelling its orders in real time (about one
    change a second per 100,000 orders), so a run waiting for nothing to change would never settle,
    and a change of the last two minutes (Amazon lists only up to two minutes ago) would count as an
    update never synced. Each order keeps the generated events already visible; events caused by
    Orderhub's own pushes (tracking) still happen. The runner cuts only after every order was stored,
    so faults and kills have met the whole book by then."""
    cut = datetime.now(UTC)
    for emulator in platforms:
        now = emulator.clock.now()
        cut = min(cut, now)
        with emulator.lock:
            for order in emulator.orders.values():
                order.events = [e for e in order.events if e.source != "generated" or e.visible_at <= now]
    return cut


def change_addresses(platforms: dict, rng: random.Random, count: int, at: datetime) -> int:
    """Buyers change the ship-to of up to `count` orders still waiting to ship, just after `at` (the cut):
    some are at a warehouse by then (the change must reach it or hold the order), some held or unrouted (a
    plain re-read). Each becomes an ADDRESS_CHANGED event of the order's own book, so every platform renders
    it its own way (TikTok's flag and webhook, TEMU's warning and event, a new address on re-read).

    The change is dated by the platform's clock at the moment it is written, never back to the cut: a
    tracking push landing between the cut and now would otherwise sort after a change dated earlier, and the
    platform would show an order shipped, to the new address, without its update time moving, a history no
    platform can produce (a buyer cannot change the ship-to of a shipped order)."""
    chosen = []
    for emulator in platforms.values():
        with emulator.lock:
            now = emulator.clock.now()
            chosen += [(emulator, order) for order in emulator.orders.values()
                       if not order.platform_fulfilled and order.state(now).status is Status.READY]
    changed = 0
    for emulator, order in rng.sample(chosen, min(count, len(chosen))):
        moved = replace(random_address(rng, order.country), name=order.address.name, phone=order.address.phone)
        with emulator.lock:
            when = max(at, emulator.clock.now())
            if order.state(when).status is not Status.READY or any(e.at >= when for e in order.events):
                continue  # shipped or cancelled since it was chosen, or something is already dated later
            order.events.append(OrderEvent(ScriptKind.ADDRESS_CHANGED, when, when, address=moved, source="buyer"))
        changed += 1
    return changed


def write_seller(run_dir: Path, hot_days: int | None = None) -> Path:
    """The worker tests' seller file with every platform operation's and warehouse's client-side
    budget opened (the production defaults, e.g. Amazon getOrderItems at 0.5 a second, ShipBob's 150
    requests a minute, would make ingestion and submission, not the chaos, the subject; the emulators
    are generous too and still inject their 2% throttling). The 100,000-order run of 2026-12-03
    submitted 2 orders a second with the warehouse defaults, 28 once they were opened.

    With `hot_days` the file also says `retention = { hot_days = N }` (0: every closed order leaves
    Redis for the archive at the next move)."""
    from connectors.aliexpress.client import DEFAULT_LIMITS as ALIEXPRESS
    from connectors.amazon.client import DEFAULT_LIMITS as AMAZON
    from connectors.shein.client import DEFAULT_LIMITS as SHEIN
    from connectors.temu.client import DEFAULT_LIMITS as TEMU
    from connectors.tiktok.client import DEFAULT_LIMITS as TIKTOK

    text = SELLER
    parts = text.split("[shops.credentials]")  # one per shop, in the file's order
    assert len(parts) == len(PLATFORMS) + 1
    opened = []
    for part, ops in zip(parts, (AMAZON, TIKTOK, TEMU, SHEIN, ALIEXPRESS), strict=False):
        tables = "".join(f'[shops.rate_limits."{op}"]\nrate = 500.0\nburst = 500\n' for op in ops)
        opened.append(part + tables)
    config = run_dir / "sellers"
    config.mkdir(parents=True, exist_ok=True)
    text = "[shops.credentials]".join(opened + parts[-1:])
    fourpx = 'logistics_product_code = "F4PX-US-STD" }'
    shipbob = 'priority = 2\n[warehouses.credentials]'
    assert text.count(fourpx) == 1 and text.count(shipbob) == 1
    text = text.replace(fourpx, fourpx[:-1] + f", {WAREHOUSE_PACE} }}").replace(
        shipbob, f"priority = 2\noptions = {{ {WAREHOUSE_PACE} }}\n[warehouses.credentials]")
    if hot_days is not None:
        head, first_table, rest = text.partition("[[shops]]")  # a top-level key goes before every table
        text = f"{head}retention = {{ hot_days = {hot_days} }}\n{first_table}{rest}"
    (config / "acme.toml").write_text(text)
    return config


ARCHIVE_SECONDS = 5
"""How often the archive move runs in a run with `--hot-days` (ORDERHUB_ARCHIVE_SECONDS; hourly in production)."""


def archive_url(run_dir: Path) -> str:
    """The run's own archive database: a SQLite file in the run directory."""
    return f"sqlite+pysqlite:///{run_dir / 'archive.sqlite3'}"


def worker_env(redis_url: str, run_dir: Path, visibility_timeout: int, archive: bool = False) -> dict[str, str]:
    """The environment of every worker, beat and the webhook receiver; with `archive`, the move of
    closed orders runs every ARCHIVE_SECONDS into the run's own archive (archive_url)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    # Never the caller's archive: the run's own (archive) or the default file in the run's home.
    env.pop("ORDERHUB_DATABASE_URL", None)
    if archive:
        env.update(ORDERHUB_ARCHIVE_SECONDS=str(ARCHIVE_SECONDS), ORDERHUB_DATABASE_URL=archive_url(run_dir))
    env.update(REDIS_URL=redis_url, ORDERHUB_PREFIX=PREFIX, ORDERHUB_CONFIG=str(run_dir / "sellers"),
               LOG_FORMAT="json", ORDERHUB_SHIPMENT_POLL_SECONDS="3", ORDERHUB_INVENTORY_SECONDS="4",
               ORDERHUB_RESUME_SECONDS="5",
               ORDERHUB_HOME=str(run_dir / "home"), ORDERHUB_VISIBILITY_TIMEOUT=str(visibility_timeout),
               ORDERHUB_HTTP_READ_TIMEOUT=str(READ_TIMEOUT))
    return env


def publish_endpoints(client: redis.Redis, emulators: dict) -> None:
    """base_url = "sandbox" in the seller file resolves through this hash (again after a Redis restart
    it is still there: AOF)."""
    client.hset(keys.sandbox_endpoints(PREFIX), mapping={name: e.url for name, e in emulators.items()})


class WebhookServer:
    """`orderhub webhooks serve` as its own process on the chaos Redis, logging to a file."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.port = free_port()
        self.log_path = log_dir / "webhooks.log"
        self._log = self.log_path.open("wb")
        cli = str(Path(sys.executable).parent / "orderhub")
        self.proc = subprocess.Popen([cli, "webhooks", "serve", "--port", str(self.port)], env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the port answers (a loaded machine takes seconds to import the CLI)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"webhook receiver did not come up; see {self.log_path}")

    def url(self, shop_id: str) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/acme/{shop_id}"

    def stop(self) -> None:
        stop_process(self.proc)
        self._log.close()


@dataclass
class Crew:
    """Workers and beat; a kill loop SIGKILLs a random worker's process group and starts another."""

    env: dict[str, str]
    log_dir: Path
    rng: random.Random
    size: int = 3
    workers: list[WorkerProcess] = field(default_factory=list)
    retired: list[WorkerProcess] = field(default_factory=list)
    beat: WorkerProcess | None = None
    kills: int = 0
    beat_restarts: int = 0
    _serial: int = 0

    def start(self) -> None:
        for _ in range(self.size):
            self._spawn()
        self.beat = WorkerProcess(self.env, "beat-0", beat=True, log_dir=self.log_dir)

    def _spawn(self) -> None:
        self._serial += 1
        self.workers.append(WorkerProcess(self.env, f"w{self._serial}", log_dir=self.log_dir))

    def kill_one(self) -> None:
        victim = self.workers.pop(self.rng.randrange(len(self.workers)))
        victim.kill()
        victim._log.close()
        self.retired.append(victim)
        self.kills += 1
        self._spawn()

    def keep_beat(self) -> None:
        if self.beat is not None and self.beat.proc.poll() is not None:
            self.beat._log.close()
            self.retired.append(self.beat)
            self.beat_restarts += 1
            self.beat = WorkerProcess(self.env, f"beat-{self.beat_restarts}", beat=True, log_dir=self.log_dir)

    def kill_loop(self, every: float, until: threading.Event) -> threading.Thread:
        def loop() -> None:
            while not until.wait(self.rng.uniform(every * 0.5, every * 1.5)):
                self.kill_one()
                self.keep_beat()

        thread = threading.Thread(target=loop, name="chaos-kills", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        for proc in self.workers + ([self.beat] if self.beat else []):
            proc.stop()


@dataclass
class WebhookTally:
    genuine_sent: int = 0
    genuine_accepted: int = 0
    forged_sent: int = 0
    forged_accepted: int = 0
    errors: int = 0


def send_webhooks(emulators: dict, server: WebhookServer, total: int, rng: random.Random, tally: WebhookTally,
                  stop: threading.Event, pace: float = 0.05) -> threading.Thread:
    """`total` order-change pushes for real orders of TikTok, TEMU and SHEIN; every tenth one forged."""
    def loop() -> None:
        ids = {p: [row["id"] for row in emulators[p].ground_truth()] for p in WEBHOOK_SHOPS}
        for n in range(total):
            if stop.is_set():
                return
            platform = rng.choice(sorted(WEBHOOK_SHOPS))
            forged = n % 10 == 9
            try:
                status = emulators[platform].send_order_webhook(server.url(WEBHOOK_SHOPS[platform]),
                                                                rng.choice(ids[platform]), forge=forged)
            except OSError:
                tally.errors += 1
                time.sleep(pace)
                continue
            ok = 200 <= status < 300
            if forged:
                tally.forged_sent += 1
                tally.forged_accepted += ok
            else:
                tally.genuine_sent += 1
                tally.genuine_accepted += ok
            time.sleep(pace)

    thread = threading.Thread(target=loop, name="chaos-webhooks", daemon=True)
    thread.start()
    return thread
