from __future__ import annotations

from datetime import UTC, datetime

import msgspec
from click.testing import CliRunner

from orderhub.cli import main
from pipeline.model import StockLevel
from pipeline.release import route_order
from pipeline.stock import StockLedger
from tests.factories import received
from tests.pipeline.helpers import order

SELLER_FILE = """
seller = "acme"
[sku_map]
default = "none"
{mapping}
[[warehouses]]
id = "east"
kind = "shipbob"
countries = ["US"]
[warehouses.credentials]
token = "env:HOLDS_TEST_TOKEN"
channel_id = "env:HOLDS_TEST_TOKEN"
"""


def test_unknown_sku_held_then_replayed_after_the_mapping_is_added(tmp_path, monkeypatch, redis_url, prefix, store):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ORDERHUB_PREFIX", prefix)
    monkeypatch.setenv("HOLDS_TEST_TOKEN", "tok-holds-test-value")
    monkeypatch.setenv("ORDERHUB_CONFIG", str(tmp_path))
    config_file = tmp_path / "acme.toml"
    config_file.write_text(SELLER_FILE.format(mapping=""))
    ledger = StockLedger(store.redis, prefix)
    now = datetime.now(UTC)
    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG-01", on_hand=4, as_of=now)], now)
    base = order(1, [("AMZ-MUG-FBM", 1)])
    unmapped = msgspec.structs.replace(base, lines=tuple(msgspec.structs.replace(line, seller_sku=None) for line in base.lines))
    store.upsert("acme", [received(unmapped)])
    from workers.config_cache import all_sellers

    route_order(store, ledger, all_sellers()["acme"], unmapped.key)

    runner = CliRunner()
    listed = runner.invoke(main, ["holds", "list", "--reason", "UNKNOWN_SKU"])
    assert unmapped.key in listed.output and "AMZ-MUG-FBM" in listed.output and "1 held order(s)" in listed.output

    config_file.write_text(SELLER_FILE.format(mapping='[sku_map.skus]\n"AMZ-MUG-FBM" = "MUG-01"'))
    replayed = runner.invoke(main, ["holds", "replay", "--reason", "UNKNOWN_SKU"])
    assert replayed.exit_code == 0, replayed.output
    assert "acme  UNKNOWN_SKU: 1 routed" in replayed.output
    assert store.get("acme", unmapped.key).hold is None
    assert ledger.allocation("acme", unmapped.key)[0].warehouse == "east"
    assert "0 held order(s)" in runner.invoke(main, ["holds", "list"]).output
