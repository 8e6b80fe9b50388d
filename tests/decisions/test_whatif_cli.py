"""`orderhub routing whatif`: a table and valid JSON, a copy of the production file kept elsewhere checks
as the original (its `file:` references resolve from the production folder), a broken candidate replays
nothing, and the command leaves Redis and the archive exactly as they were. Both databases."""

from __future__ import annotations

import os
from datetime import timedelta

import msgspec
import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from orderhub.cli import main
from pipeline.archive import archive_orders, archive_stock, schema
from pipeline.model import HoldReason, OrderLine, StockLevel, utc_now
from pipeline.stages import Stage
from pipeline.stock import StockLedger
from tests.decisions.test_replay_orders import GB, SELLER, archived, snapshot
from tests.factories import make_order, received

WAREHOUSE = """
[[warehouses]]
id = "{id}"
kind = "shipbob"
countries = {countries}
country = "{country}"
cost_hint = {cost}
[warehouses.credentials]
token = "file:secrets.toml#shipbob.token"
channel_id = "env:WHATIF_TEST_CHANNEL"
"""
PRODUCTION = 'seller = "acme"\n[routing]\nallow_split = true\n' + WAREHOUSE.format(
    id="east", countries='["US"]', country="US", cost=1.0)
UK = WAREHOUSE.format(id="uk", countries='["GB"]', country="GB", cost=1.5)


@pytest.fixture
def cli_env(engine, redis_url, prefix, monkeypatch, tmp_path):
    production = tmp_path / "config"
    production.mkdir()
    (production / "acme.toml").write_text(PRODUCTION)
    secrets = production / "secrets.toml"
    secrets.write_text('[shipbob]\ntoken = "whatif-test-token"\n')
    os.chmod(secrets, 0o600)
    monkeypatch.setenv("WHATIF_TEST_CHANNEL", "whatif-test-channel")
    monkeypatch.setenv("ORDERHUB_CONFIG", str(production))
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ORDERHUB_PREFIX", prefix)
    monkeypatch.setenv("ORDERHUB_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    review = tmp_path / "review"  # the candidate lives elsewhere: its relative file: reference is production's
    review.mkdir()
    return review


def _history(engine, store):
    """Yesterday: three MUG orders shipped from east, two held for GB; today one more GB order in Redis."""
    yesterday = (utc_now() - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    eve = yesterday.date() - timedelta(days=1)
    archive_stock(engine, [snapshot(eve, "east", "MUG", 10), snapshot(eve, "uk", "MUG", 10)])
    archive_orders(engine, [*(archived(n, at=yesterday, sent=("east",)) for n in (1, 2, 3)),
                            *(archived(n, at=yesterday, stage=Stage.HELD, hold=HoldReason.NO_WAREHOUSE_FOR_COUNTRY,
                                       to=GB, shipped=False) for n in (4, 5))])
    ledger = StockLedger(store.redis, store.prefix)  # today has no snapshot before it but yesterday's
    ledger.apply_snapshot(SELLER, "uk", [StockLevel(warehouse="uk", seller_sku="MUG", on_hand=3, as_of=yesterday)],
                          yesterday)
    now = utc_now() - timedelta(minutes=1)
    hot = msgspec.structs.replace(make_order(6), placed_at=now, updated_at=now, ship_to=GB,
                                  lines=(OrderLine(line_ids=("6-0",), platform_sku="MUG", quantity=1),))
    store.upsert(SELLER, [received(hot)])
    store.hold(SELLER, hot.key, HoldReason.NO_WAREHOUSE_FOR_COUNTRY, "no warehouse for GB")
    store.set_stage(SELLER, hot.key, Stage.HELD)


def test_a_warehouse_for_gb_as_a_table_and_as_json(cli_env, engine, store):
    _history(engine, store)
    candidate = cli_env / "acme-with-uk.toml"
    candidate.write_text(PRODUCTION + UK)
    runner = CliRunner()
    table = runner.invoke(main, ["routing", "whatif", str(candidate)])
    assert table.exit_code == 0, table.output
    rows = {" ".join(line.split()) for line in table.output.splitlines()}
    assert "held 3 3 0 -3" in rows and "NO_WAREHOUSE_FOR_COUNTRY 3 3 0 -3" in rows
    assert "uk 0 0 3 +3" in rows and "east 3 3 3 +0" in rows
    assert "3 order(s) changed outcome (baseline -> candidate):" in rows
    assert "held NO_WAREHOUSE_FOR_COUNTRY -> uk: 3" in rows
    assert "stock at the start of each day: 2 day(s) from the previous day's snapshot" not in rows  # today: older
    assert any(row.startswith("stock at the start of each day:") for row in rows)

    shown = runner.invoke(main, ["routing", "whatif", str(candidate), "--seller", SELLER, "--since", "7d", "--json"])
    assert shown.exit_code == 0, shown.output
    report = orjson.loads(shown.output)
    assert report["delta"]["holds"] == {"NO_WAREHOUSE_FOR_COUNTRY": -3} and report["delta"]["per_warehouse"] == {"uk": 3}
    assert report["moved"] == {"held NO_WAREHOUSE_FOR_COUNTRY -> uk": 3} and report["changed"] == 3
    assert report["tiers"] == {"archive": 5, "redis": 1, "both": 0}
    assert report["recorded"]["per_warehouse"] == {"east": 3}


def test_the_production_file_itself_shows_no_change(cli_env, engine, store):
    _history(engine, store)
    result = CliRunner().invoke(main, ["routing", "whatif", os.environ["ORDERHUB_CONFIG"] + "/acme.toml", "--json"])
    assert result.exit_code == 0, result.output
    report = orjson.loads(result.output)
    assert report["changed"] == 0 and report["moved"] == {} and report["baseline"] == report["candidate"]
    assert all(value in (0, 0.0, {}) for value in report["delta"].values())


def test_the_command_writes_nothing(cli_env, engine, store, redis_client, prefix):
    _history(engine, store)
    candidate = cli_env / "acme.toml"
    candidate.write_text(PRODUCTION + UK)

    def redis_state():
        """Every key of the test's prefix with its value and time to live (values read, not DUMPed: a hash
        table's serialised order may change under reads, as the dict rehashes)."""
        read = {b"string": redis_client.get, b"hash": redis_client.hgetall, b"set": redis_client.smembers,
                b"list": lambda k: redis_client.lrange(k, 0, -1),
                b"zset": lambda k: redis_client.zrange(k, 0, -1, withscores=True)}
        return {key: (read[redis_client.type(key)](key), redis_client.pttl(key))
                for key in redis_client.scan_iter(f"{prefix}*")}

    def archive_state():
        with engine.connect() as conn:
            return {table.name: sorted(map(tuple, conn.execute(select(table))))
                    for table in (*schema.ORDER_CHILDREN, schema.orders, schema.stock_snapshots)}

    before = (redis_state(), archive_state())
    for extra in ([], ["--json"]):
        assert CliRunner().invoke(main, ["routing", "whatif", str(candidate), *extra]).exit_code == 0
    assert len(before[0]) >= 10 and (redis_state(), archive_state()) == before


def test_a_broken_or_foreign_candidate_replays_nothing(cli_env, engine, store):
    broken = cli_env / "broken.toml"
    broken.write_text(PRODUCTION + UK.replace('country = "GB"', 'country = "XX"'))
    runner = CliRunner()
    result = runner.invoke(main, ["routing", "whatif", str(broken)])
    assert result.exit_code == 1 and "warehouses[1].country: 'XX' is not an ISO 3166-1" in result.output
    assert "nothing replayed" in result.output
    foreign = cli_env / "globex.toml"
    foreign.write_text(PRODUCTION.replace('"acme"', '"globex"'))
    result = runner.invoke(main, ["routing", "whatif", str(foreign), "--seller", SELLER])
    assert result.exit_code == 2 and "is the config of seller 'globex', not 'acme'" in result.output
    assert runner.invoke(main, ["routing", "whatif", str(foreign)]).exit_code == 2  # no seller globex
    assert runner.invoke(main, ["routing", "whatif", str(broken), "--since", "soon"]).exit_code == 2


def test_credentials_a_what_if_never_uses_need_not_resolve_but_must_be_references(cli_env, engine, store):
    _history(engine, store)
    unsigned = cli_env / "unsigned.toml"  # a warehouse not signed yet: its variable is not set anywhere
    unsigned.write_text(PRODUCTION + UK.replace("env:WHATIF_TEST_CHANNEL", "env:WHATIF_UK_NOT_SET"))
    result = CliRunner().invoke(main, ["routing", "whatif", str(unsigned), "--json"])
    assert result.exit_code == 0, result.output
    assert "environment variable WHATIF_UK_NOT_SET is not set (not needed: nothing connects)" in result.stderr
    assert orjson.loads(result.stdout)["moved"] == {"held NO_WAREHOUSE_FOR_COUNTRY -> uk": 3}
    inline = cli_env / "inline.toml"
    inline.write_text(PRODUCTION + UK.replace('"env:WHATIF_TEST_CHANNEL"', '"sk-live-inline"'))
    result = CliRunner().invoke(main, ["routing", "whatif", str(inline)])
    assert result.exit_code == 1 and "warehouses[1].credentials.channel_id: must be a reference" in result.stderr


def test_a_warehouse_not_stocked_yet_is_empty_unless_ops_say_how_much_it_will_hold(cli_env, engine, store):
    _history(engine, store)
    ireland = WAREHOUSE.format(id="ie", countries='["GB"]', country="IE", cost=2.0)  # no reading of any SKU
    candidate = cli_env / "acme-with-ie.toml"
    candidate.write_text(PRODUCTION + ireland)
    runner = CliRunner()
    empty = orjson.loads(runner.invoke(main, ["routing", "whatif", str(candidate), "--json"]).output)
    assert empty["moved"] == {"held NO_WAREHOUSE_FOR_COUNTRY -> held INSUFFICIENT_STOCK": 3}

    stocked = runner.invoke(main, ["routing", "whatif", str(candidate), "--json", "--assume-stock", "ie=2"])
    assert stocked.exit_code == 0, stocked.output
    moved = orjson.loads(stocked.output)["moved"]
    # two units a day: yesterday's two GB orders go to ie; today's one order too (each day starts afresh)
    assert moved == {"held NO_WAREHOUSE_FOR_COUNTRY -> ie": 3}
    bad = runner.invoke(main, ["routing", "whatif", str(candidate), "--assume-stock", "ie=lots"])
    assert bad.exit_code == 2 and "is not WAREHOUSE=UNITS" in bad.output
