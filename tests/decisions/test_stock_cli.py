"""`orderhub stock risk` and `orderhub stock rebalance` on a seller's Redis orders, ledger and archive."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import orjson
import pytest
from click.testing import CliRunner

from orderhub.cli import main
from pipeline.archive import archive_orders
from pipeline.model import Address, OrderStatus, StockLevel, utc_now
from pipeline.stages import Stage
from pipeline.stock import StockLedger
from tests.archive.helpers import archived, order
from tests.factories import received

SELLER_FILE = """
seller = "acme"
[[shops]]
platform = "amazon"
shop_id = "acme-amazon"
countries = ["US", "GB"]
[shops.credentials]
client_id = "env:RISK_CLI_TEST_SECRET"
client_secret = "env:RISK_CLI_TEST_SECRET"
refresh_token = "env:RISK_CLI_TEST_SECRET"
seller_id = "env:RISK_CLI_TEST_SECRET"
[stock]
lead_time_days = 14
safety_days = 7
risk_threshold = 0.2
[stock.warehouses.uk]
risk_threshold = 0.3
[[warehouses]]
id = "east"
kind = "shipbob"
countries = ["US"]
[warehouses.credentials]
token = "env:RISK_CLI_TEST_SECRET"
channel_id = "env:RISK_CLI_TEST_SECRET"
[[warehouses]]
id = "uk"
kind = "shipbob"
countries = ["GB"]
[warehouses.credentials]
token = "env:RISK_CLI_TEST_SECRET"
channel_id = "env:RISK_CLI_TEST_SECRET"
[[transfer_lanes]]
from = "east"
to = "uk"
days = 2
cost_per_unit = 1.5
"""
GB = Address(country="GB", name="Jane Placeholder", line1="1 Test Street", city="London", postal_code="E1 6AN",
             pii_complete=True)


@pytest.fixture
def seller(redis_url, prefix, store, tmp_path, monkeypatch):
    """uk sells 5 MUG a day and holds 20; east sells 2 a day and holds 400; CUP sits at east unsold."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ORDERHUB_PREFIX", prefix)
    monkeypatch.setenv("RISK_CLI_TEST_SECRET", "risk-cli-test-value")
    monkeypatch.setenv("ORDERHUB_CONFIG", str(tmp_path))
    monkeypatch.setenv("ORDERHUB_DATABASE_URL", f"sqlite+pysqlite:///{tmp_path / 'no-archive.sqlite3'}")
    (tmp_path / "acme.toml").write_text(SELLER_FILE)
    now = utc_now()
    ledger = StockLedger(store.redis, store.prefix)
    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG", on_hand=400, as_of=now),
                                           StockLevel(warehouse="east", seller_sku="CUP", on_hand=9, as_of=now)], now)
    ledger.apply_snapshot("acme", "uk", [StockLevel(warehouse="uk", seller_sku="MUG", on_hand=20, as_of=now)], now)
    for day in range(1, 29):
        placed = now - timedelta(days=day)
        uk = order(1000 + day, placed=placed, lines=(("MUG", 5),), status=OrderStatus.READY)
        us = order(2000 + day, placed=placed, lines=(("MUG", 2),), status=OrderStatus.READY)
        uk = msgspec.structs.replace(uk, ship_to=GB)
        store.upsert("acme", [received(uk), received(us)])
        store.set_stage("acme", uk.key, Stage.SHIPPED)
        store.set_stage("acme", us.key, Stage.SHIPPED)
    return tmp_path


def test_stock_risk_lists_the_sku_about_to_run_out_first(seller):
    result = CliRunner().invoke(main, ["stock", "risk", "--seller", "acme"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["seller", "sku", "warehouse"]
    first = lines[1].split()
    assert first[:4] == ["acme", "MUG", "uk", "20"] and first[-2:] == ["RISK", "REORDER"] and "30%" in first
    assert "archive" not in result.output  # no archive yet: Redis only, nothing said
    cup = next(line for line in lines if " CUP " in line).split()
    assert cup[5] == "inf" and cup[6] == "-" and cup[7] == "0.0%"
    at_risk = CliRunner().invoke(main, ["stock", "risk", "--at-risk"])
    assert [line.split()[1:3] for line in at_risk.output.splitlines()[1:]] == [["MUG", "uk"]]
    rows = orjson.loads(CliRunner().invoke(main, ["stock", "risk", "--warehouse", "east", "--json"]).output)
    assert {r["seller_sku"] for r in rows} == {"MUG", "CUP"} and all(r["warehouse"] == "east" for r in rows)
    cup_row = next(r for r in rows if r["seller_sku"] == "CUP")
    assert cup_row["days_of_cover"] is None and cup_row["probability"] == 0 and cup_row["at_risk"] is False
    mug = next(r for r in rows if r["seller_sku"] == "MUG")
    assert 1.5 < mug["mean_daily"] <= 2.0 and mug["available"] == 400 and mug["stockout_date"]


def test_stock_rebalance_suggests_the_lane_that_removes_the_stock_out(seller):
    result = CliRunner().invoke(main, ["stock", "rebalance", "--seller", "acme"])
    assert result.exit_code == 0, result.output
    assert "(suggested only; nothing is moved)" in result.output
    assert "x MUG  east -> uk  arrives in 2 d" in result.output
    assert "why from east:" in result.output and "why to uk:" in result.output
    data = orjson.loads(CliRunner().invoke(main, ["stock", "rebalance", "--seller", "acme", "--json"]).output)
    move = data["suggestions"][0]
    assert (move["seller_sku"], move["source"], move["destination"]) == ("MUG", "east", "uk")
    assert move["destination_before"] > 0.9 and move["destination_after"] < 0.3
    assert data["total_probability_after"] < data["total_probability_before"]
    assert CliRunner().invoke(main, ["stock", "rebalance"]).exit_code == 2  # --seller is required


def test_stock_risk_counts_archived_demand_too(seller, engine, monkeypatch):
    """Archived CUP orders (8 a day for a week before the hot tier's) make CUP at east a risk."""
    monkeypatch.setenv("ORDERHUB_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    now = utc_now()
    archive_orders(engine, [archived(3000 + day, placed=now - timedelta(days=day), lines=(("CUP", 8),))
                            for day in range(1, 8)])
    rows = orjson.loads(CliRunner().invoke(main, ["stock", "risk", "--json", "--at-risk"]).output)
    assert {(r["seller_sku"], r["warehouse"]) for r in rows} == {("MUG", "uk"), ("CUP", "east")}
    cup = next(r for r in rows if r["seller_sku"] == "CUP")
    assert cup["mean_daily"] > 4 and cup["available"] == 9
