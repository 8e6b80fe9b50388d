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


def test_invalid_payload_is_mapped_again_from_the_kept_raw_payload_after_a_connector_fix(
        tmp_path, monkeypatch, redis_url, prefix, store):
    """The point of keeping the raw payload: a connector fix releases what it held. Here Amazon sends a
    status the mapping does not know yet (held INVALID_PAYLOAD); once the mapping knows it, `holds replay
    --reason INVALID_PAYLOAD` maps the kept payload again, routes the order and says so per order."""
    from connectors.amazon import mapping
    from connectors.registry import get_connector
    from pipeline.model import HoldReason, OrderStatus
    from pipeline.ports import ShopRef
    from pipeline.sync import store_bundles
    from tests.connectors.fixtures import bundle

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ORDERHUB_PREFIX", prefix)
    monkeypatch.setenv("HOLDS_TEST_TOKEN", "tok-holds-test-value")
    monkeypatch.setenv("ORDERHUB_CONFIG", str(tmp_path))
    (tmp_path / "acme.toml").write_text(SELLER_FILE.format(mapping=""))
    raw = bundle("amazon", "mfn_unshipped_us")
    raw["order"]["OrderStatus"] = "Unconfirmed"  # a status this mapping has never seen
    shop = ShopRef(seller="acme", platform="amazon", shop_id="acme-amazon-us")
    ((item, _),) = store_bundles(store, get_connector("amazon"), shop, [raw])
    assert store.get("acme", item.key).hold.reason is HoldReason.INVALID_PAYLOAD

    runner = CliRunner()
    before = runner.invoke(main, ["holds", "replay", "--reason", "INVALID_PAYLOAD"])
    assert f"acme  {item.key}  INVALID_PAYLOAD: still does not map: " in before.output
    assert "unknown status 'Unconfirmed'" in before.output

    monkeypatch.setitem(mapping.STATUS, "Unconfirmed", OrderStatus.READY)  # the connector fix
    after = runner.invoke(main, ["holds", "replay", "--reason", "INVALID_PAYLOAD"])
    assert after.exit_code == 0, after.output
    assert f"acme  {item.key}  INVALID_PAYLOAD: mapped, then held" in after.output  # no SKU map: UNKNOWN_SKU now
    stored = store.get("acme", item.key)
    assert stored.order is not None and stored.order.status is OrderStatus.READY
    assert stored.hold.reason is HoldReason.UNKNOWN_SKU
