"""A benchmark world: the five platform and two warehouse emulators with their limits and faults off,
a seller file pointing at them, and a feeder that puts orders on the platforms at chosen instants
(waves, so a million never sit in memory at once). Its Redis (a private server, or a claimed database)
comes from bench/_redis.py; its `celery worker`/`beat` subprocesses from bench/_workers.py.

Shared by the pipeline, memory, budget and stock benchmarks: keep the public names stable (those of
_redis.py and _workers.py are re-exported here, where the benchmarks have always imported them).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import redis

from bench._redis import bench_redis, claimed_db, commands_processed, private_redis
from bench._workers import CELERY, QUEUES, Celery, cpu_seconds, procfile_workers
from pipeline import keys
from pipeline.identity import order_key, outbound_reference
from sandbox import AmazonEmulator, SandboxClock, TikTokEmulator
from sandbox.aliexpress.emulator import AliExpressEmulator
from sandbox.core.buckets import RateLimiter
from sandbox.core.demo_accounts import ALIEXPRESS_DEMO_ACCOUNTS, DEMO_SECRETS_PATH
from sandbox.core.generator import EventKind, GeneratedOrder, GeneratorSettings, OrderEvent, generate_orders
from sandbox.fourpx.emulator import FourPXEmulator
from sandbox.shein.emulator import SheinEmulator
from sandbox.shipbob.emulator import ShipBobEmulator
from sandbox.temu.emulator import TemuEmulator

__all__ = ["CELERY", "PLAIN", "PLATFORMS", "PREFIX", "QUEUES", "SELLER", "SHOPS", "STOCK", "WAREHOUSE", "Celery",
           "Placed", "World", "bench_redis", "claimed_db", "commands_processed", "cpu_seconds", "kick_syncs",
           "private_redis", "procfile_workers", "seed_ledger", "seller_toml", "spread"]

PREFIX = "bench"
SELLER = "acme"
PLATFORMS = ("amazon", "tiktok", "temu", "shein", "aliexpress")
SHOPS = {"amazon": "acme-amazon-us", "tiktok": "acme-tiktok-us", "temu": "acme-temu-us",
         "shein": "acme-shein-us", "aliexpress": "acme-aliexpress"}
WAREHOUSE = "4px-us"  # priority 1 with stock for everything: every order goes there
STOCK = 10**8
# Every order ready to ship the moment it appears: no cancellations, no platform fulfilment, no late updates.
PLAIN = GeneratorSettings(platform_fulfilled_share=0.0, cancel_before_release=0.0, cancel_after_release=0.0,
                          address_change=0.0, ship_share=0.0, late_update_share=0.0)


def _secrets() -> str:
    return str(DEMO_SECRETS_PATH.resolve())


def seller_toml(poll_seconds: int = 10) -> str:
    """The acme seller with one US shop per platform and both warehouses, every client-side limit lifted."""
    s = _secrets()
    creds = {
        "amazon": ("marketplace = \"ATVPDKIKX0DER\"", ["client_id", "client_secret", "refresh_token", "seller_id"],
                   "amazon-demo-us"),
        "tiktok": ("region = \"US\"", ["app_key", "app_secret", "refresh_token", "shop_id"], "tiktok-demo-us"),
        "temu": ("region = \"US\"", ["app_key", "app_secret", "access_token"], "temu-demo-us"),
        "shein": ("region = \"US\"", ["app_id", "app_secret", "open_key_id", "secret_key"], "shein-demo-us"),
        "aliexpress": ("", ["app_key", "app_secret", "access_token"], "aliexpress-demo"),
    }
    parts = [f'seller = "{SELLER}"\n']
    for platform, (extra, names, table) in creds.items():
        lines = "\n".join(f'{n} = "file:{s}#{table}.{n}"' for n in names)
        limits = "".join(f'[shops.rate_limits."{op}"]\nrate = 1000000.0\nburst = 1000000\n'
                         for op in ("*", *_default_limits(platform)))
        parts.append(f'[[shops]]\nplatform = "{platform}"\nshop_id = "{SHOPS[platform]}"\n{extra}\nbase_url = "sandbox"\n'
                     f'poll_interval_seconds = {poll_seconds}\n{limits}[shops.credentials]\n{lines}\n')
    parts.append(f"""[[warehouses]]
id = "4px-us"
kind = "fourpx"
base_url = "sandbox"
countries = ["US"]
priority = 1
options = {{ warehouse_code = "USNJ01", logistics_product_code = "F4PX-US-STD", rate_limit = "1000000" }}
[warehouses.credentials]
app_key = "file:{s}#fourpx-demo.app_key"
app_secret = "file:{s}#fourpx-demo.app_secret"

[[warehouses]]
id = "shipbob-us"
kind = "shipbob"
base_url = "sandbox"
countries = ["US"]
priority = 2
options = {{ rate_limit = "1000000" }}
[warehouses.credentials]
token = "file:{s}#shipbob-demo.token"
channel_id = "file:{s}#shipbob-demo.channel_id"
""")
    return "\n".join(parts)


def _default_limits(platform: str) -> list[str]:
    """The operations a connector meters by default: each must be lifted by name ("*" is only a fallback)."""
    import importlib

    return sorted(getattr(importlib.import_module(f"connectors.{platform}.client"), "DEFAULT_LIMITS", {}))


# -- emulators and orders ------------------------------------------------------------------------


@dataclass
class Placed:
    """An order put on a platform: where it appeared, when, and the reference its outbound will carry."""

    platform: str
    external_id: str
    appear_at: datetime
    reference: str


class World:
    """The emulators on one sandbox clock at factor 1.0, unmetered, faults off, shipping never."""

    def __init__(self, redis_url: str, workdir: Path, *, poll_seconds: int = 10) -> None:
        self.redis_url = redis_url
        self.client = redis.Redis.from_url(redis_url)
        self.workdir = workdir
        self.clock = SandboxClock(factor=1.0)
        never = 10**9  # seconds: outbounds stay open, so nothing ships and no tracking flows back
        us_only = (replace(ALIEXPRESS_DEMO_ACCOUNTS[0], countries=("US",)),)
        self.platforms = {
            "amazon": AmazonEmulator(clock=self.clock, orders=0),
            "tiktok": TikTokEmulator(clock=self.clock, orders=0),
            "temu": TemuEmulator(clock=self.clock, orders=0),
            "shein": SheinEmulator(clock=self.clock, orders=0),
            "aliexpress": AliExpressEmulator(us_only, clock=self.clock, orders=0),
        }
        self.fourpx = FourPXEmulator(clock=self.clock, initial_stock=STOCK, pick_after=never, ship_after=never)
        self.shipbob = ShipBobEmulator(clock=self.clock, initial_stock=STOCK, ship_after=never)
        self.emulators = {**self.platforms, "fourpx": self.fourpx, "shipbob": self.shipbob}
        for emulator in self.emulators.values():
            emulator.limiter = RateLimiter(self.clock, {})  # operations without a limit are not metered
            emulator.start()
        self.client.hset(keys.sandbox_endpoints(PREFIX), mapping={n: e.url for n, e in self.emulators.items()})
        from pipeline.store import OrderStore

        for shop in SHOPS.values():  # shops already in operation: no first sync walking a week of history
            OrderStore(self.client, PREFIX).set_cursor(SELLER, shop, self.clock.now() - timedelta(minutes=5))
        (workdir / "sellers").mkdir(parents=True, exist_ok=True)
        (workdir / "sellers" / f"{SELLER}.toml").write_text(seller_toml(poll_seconds))
        self._serial = 0

    def env(self, **extra: str) -> dict[str, str]:
        """What a worker process needs: our Redis, prefix and seller folder; slow schedules for the parts
        of the job the benchmark does not time (shipments, inventory and full stock pushes)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env.update(REDIS_URL=self.redis_url, ORDERHUB_PREFIX=PREFIX, ORDERHUB_CONFIG=str(self.workdir / "sellers"),
                   ORDERHUB_HOME=str(self.workdir / "home"), LOG_FORMAT="json",
                   ORDERHUB_SHIPMENT_POLL_SECONDS="3600", ORDERHUB_INVENTORY_SECONDS="3600",
                   ORDERHUB_STOCK_SECONDS="3600")
        env.update(extra)
        return env

    def make_orders(self, platform: str, appear_at: Iterable[datetime], seed: int) -> list[Placed]:
        """Generate one US order per instant and put it on `platform`, placed and paid at that instant
        (invisible to the API until the sandbox clock reaches it)."""
        emulator = self.platforms[platform]
        moments = list(appear_at)
        generated = generate_orders(seed, len(moments), self.clock.start, ("US",), PLAIN)
        placed, book = [], {}
        for order, at in zip(generated, moments, strict=True):
            self._serial += 1
            order.serial = str(10**13 + 2 * self._serial + 1)  # unique; odd: TikTok orders ship by the seller
            _retime(order, at)
            external_id = emulator.assign(order)
            book[external_id] = order
            key = order_key(platform, SHOPS[platform], external_id)
            placed.append(Placed(platform, external_id, at, outbound_reference(key, WAREHOUSE)))
        with emulator.lock:
            emulator.orders.update(book)
        return placed

    def forget(self, placed: Iterable[Placed]) -> None:
        """Take orders off their platforms (after their submission) so listings stay small; a feeder's
        way to run a million orders without an emulator scanning a million on every page."""
        by_platform: dict[str, list[str]] = {}
        for p in placed:
            by_platform.setdefault(p.platform, []).append(p.external_id)
        for platform, ids in by_platform.items():
            emulator = self.platforms[platform]
            with emulator.lock:
                for oid in ids:
                    emulator.orders.pop(oid, None)
        with self.fourpx.lock:  # the warehouse keeps its created-count per reference (duplicates show there)
            for p in placed:
                number = self.fourpx.by_ref.pop(p.reference, None)
                if number is not None:
                    self.fourpx.outbounds.pop(number, None)

    def received(self) -> dict[str, datetime]:
        """Reference → when the 4PX emulator received the outbound order (its sandbox-clock create time)."""
        with self.fourpx.lock:
            numbers = dict(self.fourpx.by_ref)
            return {ref: self.fourpx.outbounds[n].created_at for ref, n in numbers.items()
                    if n in self.fourpx.outbounds}

    def received_count(self) -> int:
        """Distinct references the 4PX emulator ever accepted (forgotten ones included)."""
        with self.fourpx.lock:
            return len(self.fourpx.creates)

    def received_refs(self, refs: set[str]) -> int:
        """How many of `refs` the 4PX emulator holds now."""
        with self.fourpx.lock:
            return sum(1 for ref in refs if ref in self.fourpx.by_ref)

    def duplicates(self) -> int:
        """References created more than once at either warehouse (must be 0)."""
        counts = self.fourpx.count_by_reference() | self.shipbob.count_by_reference()
        return sum(1 for n in counts.values() if n > 1)

    def shipbob_count(self) -> int:
        return sum(self.shipbob.count_by_reference().values())

    def stop(self) -> None:
        for emulator in self.emulators.values():
            emulator.stop()


def _retime(order: GeneratedOrder, at: datetime) -> None:
    order.created_at = at
    order.events = [OrderEvent(EventKind.PLACED, at, at), OrderEvent(EventKind.PAID, at, at)]


def spread(start: datetime, count: int, rate: float) -> list[datetime]:
    """`count` instants from `start`, `rate` per second."""
    return [start + timedelta(seconds=i / rate) for i in range(count)]


def seed_ledger(world: World) -> None:
    """Read the warehouses' stock into the ledger once, as the beat's inventory pull would."""
    from orderhub.wiring import warehouse_clients
    from pipeline.model import utc_now
    from pipeline.stock import StockLedger
    from workers.config_cache import all_sellers

    cfg = all_sellers(world.workdir / "sellers")[SELLER]
    ledger = StockLedger(world.client, PREFIX)
    for wh, client in warehouse_clients(cfg, world.client, PREFIX).items():
        ledger.apply_snapshot(SELLER, wh, client.inventory(), utc_now())


def kick_syncs(world: World) -> None:
    """Enqueue one sync per shop now (what beat does every poll interval), so a run need not wait for it.
    The Celery app configures itself from the environment, so this process takes the workers' one."""
    os.environ.update(world.env())
    from workers.app import app

    for platform in PLATFORMS:
        app.send_task("workers.tasks.sync_shop", (SELLER, SHOPS[platform]), queue="ingest")
