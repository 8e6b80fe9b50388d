"""The world integration tests run in: emulators on loopback, a seller config pointing at them, and
the environment a worker process needs (its own Redis database, key prefix and config folder)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import redis

from pipeline import keys
from sandbox import AmazonEmulator, RateLimit, SandboxClock, TikTokEmulator
from sandbox.aliexpress.emulator import AliExpressEmulator
from sandbox.core.demo_accounts import ALIEXPRESS_DEMO_ACCOUNTS, DEMO_SECRETS_PATH
from sandbox.core.generator import GeneratorSettings
from sandbox.fourpx.emulator import FourPXEmulator
from sandbox.shein.emulator import SheinEmulator
from sandbox.shipbob.emulator import ShipBobEmulator
from sandbox.temu.emulator import TemuEmulator
from tests.integration.workers import free_db, release_db

PREFIX = "e2e"
SECRETS = DEMO_SECRETS_PATH.resolve()
GENEROUS = RateLimit(200.0, 200)

SELLER = f"""
seller = "acme"
[[shops]]
platform = "amazon"
shop_id = "acme-amazon-us"
marketplace = "ATVPDKIKX0DER"
base_url = "sandbox"
poll_interval_seconds = 10
[shops.rate_limits."*"]
rate = 200.0
burst = 200
[shops.credentials]
client_id = "file:{SECRETS}#amazon-demo-us.client_id"
client_secret = "file:{SECRETS}#amazon-demo-us.client_secret"
refresh_token = "file:{SECRETS}#amazon-demo-us.refresh_token"
seller_id = "file:{SECRETS}#amazon-demo-us.seller_id"

[[shops]]
platform = "tiktok"
shop_id = "acme-tiktok-us"
region = "US"
base_url = "sandbox"
poll_interval_seconds = 10
webhook = true
options = {{ platform_shop_id = "7494000000000000101" }}
[shops.credentials]
app_key = "file:{SECRETS}#tiktok-demo-us.app_key"
app_secret = "file:{SECRETS}#tiktok-demo-us.app_secret"
refresh_token = "file:{SECRETS}#tiktok-demo-us.refresh_token"
shop_id = "file:{SECRETS}#tiktok-demo-us.shop_id"

[[shops]]
platform = "temu"
shop_id = "acme-temu-us"
region = "US"
base_url = "sandbox"
poll_interval_seconds = 10
webhook = true
options = {{ platform_shop_id = "634418210001" }}
[shops.credentials]
app_key = "file:{SECRETS}#temu-demo-us.app_key"
app_secret = "file:{SECRETS}#temu-demo-us.app_secret"
access_token = "file:{SECRETS}#temu-demo-us.access_token"

[[shops]]
platform = "shein"
shop_id = "acme-shein-us"
region = "US"
base_url = "sandbox"
poll_interval_seconds = 10
webhook = true
[shops.credentials]
app_id = "file:{SECRETS}#shein-demo-us.app_id"
app_secret = "file:{SECRETS}#shein-demo-us.app_secret"
open_key_id = "file:{SECRETS}#shein-demo-us.open_key_id"
secret_key = "file:{SECRETS}#shein-demo-us.secret_key"

[[shops]]
platform = "aliexpress"
shop_id = "acme-aliexpress"
base_url = "sandbox"
poll_interval_seconds = 10
[shops.credentials]
app_key = "file:{SECRETS}#aliexpress-demo.app_key"
app_secret = "file:{SECRETS}#aliexpress-demo.app_secret"
access_token = "file:{SECRETS}#aliexpress-demo.access_token"

[[warehouses]]
id = "4px-us"
kind = "fourpx"
base_url = "sandbox"
countries = ["US"]
priority = 1
options = {{ warehouse_code = "USNJ01", logistics_product_code = "F4PX-US-STD" }}
[warehouses.credentials]
app_key = "file:{SECRETS}#fourpx-demo.app_key"
app_secret = "file:{SECRETS}#fourpx-demo.app_secret"

[[warehouses]]
id = "shipbob-us"
kind = "shipbob"
base_url = "sandbox"
countries = ["US"]
priority = 2
[warehouses.credentials]
token = "file:{SECRETS}#shipbob-demo.token"
channel_id = "file:{SECRETS}#shipbob-demo.channel_id"
"""


def start_world(tmp_path: Path, redis_url: str, *, generator: GeneratorSettings | None = None,
                initial_stock: int = 6, ship_after: float = 20, seller_extra: Callable[[dict], str] | None = None,
                env_extra: dict[str, str] | None = None):
    """Emulators on loopback, the acme seller file pointing at them, and a worker environment on a
    Redis database of its own. `seller_extra(emulators)` appends TOML to the seller file."""
    url = free_db(redis_url)
    client = redis.Redis.from_url(url)
    clock = SandboxClock(factor=1.0)
    gen = {"generator": generator} if generator else {}
    amazon = AmazonEmulator(clock=clock, orders=120, seed=21,
                            rate_limits={op: GENEROUS for op in ("getOrders", "getOrderItems", "getOrderAddress",
                                                                 "getOrder", "createRestrictedDataToken",
                                                                 "confirmShipment", "patchListingsItem")},
                            **gen).start()
    tiktok = TikTokEmulator(clock=clock, orders=120, seed=22, **gen).start()
    # About 20 US orders each: TEMU and SHEIN share their orders out over their shops' countries,
    # and the AliExpress account is narrowed to US buyers.
    temu = TemuEmulator(clock=clock, orders=120, seed=23, **gen).start()
    shein = SheinEmulator(clock=clock, orders=80, seed=24, **gen).start()
    aliexpress = AliExpressEmulator((replace(ALIEXPRESS_DEMO_ACCOUNTS[0], countries=("US",)),), clock=clock,
                                    orders=40, seed=25, **gen).start()
    fourpx = FourPXEmulator(clock=clock, initial_stock=initial_stock, pick_after=3, ship_after=ship_after).start()
    shipbob = ShipBobEmulator(clock=clock, initial_stock=initial_stock, ship_after=ship_after).start()
    emulators = {"amazon": amazon, "tiktok": tiktok, "temu": temu, "shein": shein, "aliexpress": aliexpress,
                 "fourpx": fourpx, "shipbob": shipbob}
    client.hset(keys.sandbox_endpoints(PREFIX), mapping={name: e.url for name, e in emulators.items()})
    (tmp_path / "sellers").mkdir()
    (tmp_path / "sellers" / "acme.toml").write_text(SELLER + (seller_extra(emulators) if seller_extra else ""))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(REDIS_URL=url, ORDERHUB_PREFIX=PREFIX, ORDERHUB_CONFIG=str(tmp_path / "sellers"), LOG_FORMAT="json",
               ORDERHUB_SHIPMENT_POLL_SECONDS="3", ORDERHUB_INVENTORY_SECONDS="4",
               ORDERHUB_RESUME_SECONDS="5",
               ORDERHUB_HOME=str(tmp_path / "home"),
               ORDERHUB_VISIBILITY_TIMEOUT="60")  # a SIGKILLed worker's message comes back within ~70 s
    env.update(env_extra or {})

    def stop() -> None:
        for emulator in emulators.values():
            emulator.stop()
        release_db(redis_url, url)

    return emulators, env, client, stop


@pytest.fixture
def world(tmp_path: Path, redis_url: str):
    emulators, env, client, stop = start_world(tmp_path, redis_url)
    yield emulators, env, client, tmp_path
    stop()
