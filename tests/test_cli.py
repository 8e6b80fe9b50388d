from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from orderhub.cli import main
from pipeline.model import HoldReason
from tests.factories import make_order, received

BUYER = "Zebulon Quixotic-Testperson"


@pytest.fixture
def cli_env(redis_url, prefix, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ORDERHUB_PREFIX", prefix)
    return prefix


def test_order_show_masks_pii_unless_asked_and_shows_timeline_and_hold(cli_env, store):
    order = make_order(4, buyer=BUYER)
    store.upsert("acme", [received(order, raw={"order": {"BuyerInfo": {"BuyerName": BUYER}}})])
    store.hold("acme", order.key, HoldReason.UNKNOWN_SKU, "platform SKU SKU-4 is not in the SKU map")
    runner = CliRunner()
    masked = runner.invoke(main, ["order", "show", order.key, "--raw"])
    assert masked.exit_code == 0, masked.output
    assert BUYER not in masked.output and "1 Test Street" not in masked.output
    assert "HELD UNKNOWN_SKU: platform SKU SKU-4 is not in the SKU map" in masked.output
    assert "received" in masked.output and "held" in masked.output
    assert '"city": "Austin"' in masked.output  # where it goes stays readable for a routing hold
    shown = runner.invoke(main, ["order", "show", order.key, "--pii", "--raw"])
    assert shown.output.count(BUYER) == 2  # canonical address and raw bundle


def test_order_show_lists_a_timeline_event_s_addresses_masked_unless_asked(cli_env, store):
    """Both addresses of a ship-to changed after submission are on the timeline; the person is not shown
    by default, the place is."""
    from pipeline.model import Address, EventKind

    order = make_order(5, buyer=BUYER)
    store.upsert("acme", [received(order)])
    sent = Address(country="US", name=BUYER, line1="1 Old Road", city="Austin", region="TX", postal_code="78701")
    now = Address(country="US", name=BUYER, line1="9 New Street", city="Dallas", region="TX", postal_code="75201")
    store.append_event("acme", order.key, EventKind.ADDRESS_CHANGED, "east refused", addresses={"sent": sent, "now": now})
    masked = CliRunner().invoke(main, ["order", "show", order.key])
    assert "sent: country=US, name=***, line1=***, city=Austin" in masked.output
    assert "now: country=US, name=***, line1=***, city=Dallas" in masked.output
    assert BUYER not in masked.output and "New Street" not in masked.output
    shown = CliRunner().invoke(main, ["order", "show", order.key, "--pii"])
    assert "line1=1 Old Road" in shown.output and "line1=9 New Street" in shown.output


def test_order_show_unknown_key_exits_1(cli_env):
    result = CliRunner().invoke(main, ["order", "show", "amazon:x:nope"])
    assert result.exit_code == 1 and "no order amazon:x:nope" in result.output


def test_status_counts_orders_per_state_and_holds(cli_env, store):
    from pipeline.model import OrderStatus

    store.upsert("acme", [received(make_order(n)) for n in range(3)])
    store.upsert("acme", [received(make_order(9, status=OrderStatus.CANCELLED))])
    store.hold("acme", make_order(1).key, HoldReason.INSUFFICIENT_STOCK, "SKU-1 needs 2, 0 free")
    store.set_stage("acme", make_order(2).key, "submitted")
    from datetime import timedelta

    from connectors.ratelimit import RateLimiter
    from pipeline.model import utc_now

    store.set_cursor("acme", "shop-1", utc_now() - timedelta(seconds=90))
    RateLimiter(store.redis, store.prefix).block("amazon", "A1", "getOrders", 0.01)
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 0
    lines = [" ".join(line.split()) for line in result.output.splitlines()]
    assert "amazon READY 3" in lines and "amazon CANCELLED 1" in lines
    assert "INSUFFICIENT_STOCK 1" in lines
    assert lines[0].startswith("queues: ingest ")
    assert "throttled calls: amazon:getOrders 1" in lines
    lag = next(line for line in lines if line.startswith("sync shop-1:"))
    assert 89 <= int(lag.rsplit("lag ", 1)[1].rstrip("s")) <= 120
    # order 1 is held and order 2 submitted: the oldest READY still waiting is order 0
    assert any(line.startswith(f"oldest READY not yet at a warehouse: {make_order(0).key}") for line in lines)


@pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0, reason="needs unshare as root")
def test_status_works_on_embedded_redis_with_no_redis_url_and_no_network(tmp_path):
    """In a fresh network namespace nothing answers on 127.0.0.1:6379; the embedded server still serves."""
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "ORDERHUB_PREFIX"}}
    env.update(ORDERHUB_HOME=str(tmp_path / ".orderhub"), LOG_FORMAT="json")
    script = (
        "redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && echo PORT6379=up || echo PORT6379=down; "
        f"{Path(sys.executable).parent / 'orderhub'} status"
    )
    try:
        done = subprocess.run(["unshare", "--net", "sh", "-c", script], env=env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        assert "PORT6379=down" in done.stdout
        assert "no orders stored yet" in done.stdout
        events = [orjson.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
        assert any(e["event"] == "redis.connected" and e["mode"] == "embedded" for e in events)
        assert (tmp_path / ".orderhub" / "redis.sock").exists()
        assert (tmp_path / ".orderhub" / "appendonly.aof").exists() or (tmp_path / ".orderhub" / "appendonlydir").exists()
    finally:
        from orderhub.runtime.redisconn import stop_embedded

        stop_embedded(tmp_path / ".orderhub")


def test_sandbox_listings_prints_a_sku_map_a_seller_file_accepts():
    import tomllib

    from config.schema import SkuMapConfig

    result = CliRunner().invoke(main, ["sandbox", "listings", "tiktok"])
    assert result.exit_code == 0, result.output
    sku_map = SkuMapConfig(**tomllib.loads(result.output)["sku_map"])
    (sku_id, seller_sku), *_ = sku_map.platforms["tiktok"].items()
    assert seller_sku.startswith("OH-") and sku_id.isdigit() and sku_map.listings["tiktok"][sku_id].isdigit()
    assert CliRunner().invoke(main, ["sandbox", "listings", "fourpx"]).exit_code == 2


STOCK_SELLER_FILE = """
seller = "acme"
[[shops]]
platform = "amazon"
shop_id = "acme-amazon-us"
countries = ["US"]
[shops.credentials]
client_id = "env:STOCK_SHOW_TEST_SECRET"
client_secret = "env:STOCK_SHOW_TEST_SECRET"
refresh_token = "env:STOCK_SHOW_TEST_SECRET"
seller_id = "env:STOCK_SHOW_TEST_SECRET"
[sku_map]
default = "none"
[sku_map.platforms.amazon]
"ACME-MUG-01-FBM" = "MUG-01"
[[warehouses]]
id = "east"
kind = "shipbob"
countries = ["US"]
[warehouses.credentials]
token = "env:STOCK_SHOW_TEST_SECRET"
channel_id = "env:STOCK_SHOW_TEST_SECRET"
"""


def test_stock_show_says_why_the_platform_refused_a_listing_and_when_it_is_tried_again(
        cli_env, store, tmp_path, monkeypatch):
    from datetime import timedelta

    from connectors.registry import PLATFORMS
    from pipeline.model import StockLevel, utc_now
    from pipeline.ports import PushOutcome
    from pipeline.stock import StockLedger
    from pipeline.stock_sync import sync_shop_stock
    from workers.config_cache import all_sellers

    monkeypatch.setenv("STOCK_SHOW_TEST_SECRET", "stock-show-test-value")
    monkeypatch.setenv("ORDERHUB_CONFIG", str(tmp_path))
    (tmp_path / "acme.toml").write_text(STOCK_SELLER_FILE)
    cfg = all_sellers()["acme"]
    ledger = StockLedger(store.redis, store.prefix)
    now = utc_now()
    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG-01", on_hand=4, as_of=now)],
                          now)

    class Refusing:
        def push_stock(self, pushes):
            return [PushOutcome(p.platform_sku, False, f"The SKU {p.platform_sku} does not exist in the seller's "
                                "catalogue.", "4000001") for p in pushes]

    sync_shop_stock(cfg, cfg.shops[0], ledger, store.redis, store.prefix, PLATFORMS["amazon"], Refusing(), now=now)
    result = CliRunner().invoke(main, ["stock", "show", "MUG-01", "--seller", "acme"])
    assert result.exit_code == 0, result.output
    retry_at = now + timedelta(seconds=60)
    assert "ACME-MUG-01-FBM" in result.output and "last pushed never  (changed, but refused: see below)" in result.output
    assert "refused (4000001): The SKU ACME-MUG-01-FBM does not exist in the seller's catalogue.\n" in result.output
    assert (f"4 refused at {now:%Y-%m-%d %H:%M:%S}Z, attempt 1; next try after {retry_at:%Y-%m-%d %H:%M:%S}Z, "
            "or at once when the number changes\n") in result.output
    by_platform_sku = CliRunner().invoke(main, ["stock", "show", "ACME-MUG-01-FBM", "--seller", "acme"])
    assert by_platform_sku.exit_code == 0, by_platform_sku.output
    assert by_platform_sku.output.startswith("acme  MUG-01 (platform SKU ACME-MUG-01-FBM)\n")
    assert by_platform_sku.output.split("\n", 1)[1] == result.output.split("\n", 1)[1]

    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG-01", on_hand=6,
                                                      as_of=now + timedelta(seconds=1))], now + timedelta(seconds=1))
    changed = CliRunner().invoke(main, ["stock", "show", "MUG-01", "--seller", "acme"])
    assert "(changed: pushed at the next sync)" in changed.output
    assert "the number or listing id has changed since: pushed at the next sync" in changed.output
