from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from config.loader import check_file, credentials_for, load_sellers, resolve_reference
from connectors.registry import BUILT_IN
from connectors.warehouses.registry import BUILT_IN as BUILT_IN_WAREHOUSES
from orderhub.cli import main
from pipeline.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
SECRET = "s3cr3t-value-that-must-never-print"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
seller = "acme"
[[shops]]
platform = "amazon"
shop_id = "acme-us"
marketplace = "ATVPDKIKX0DER"
[shops.credentials]
client_id = "env:ACME_TEST_CLIENT_ID"
client_secret = "file:secrets.toml#amazon.client_secret"
refresh_token = "file:refresh.txt"
seller_id = "env:ACME_TEST_CLIENT_ID"
[[warehouses]]
id = "wh-1"
kind = "shipbob"
countries = ["US"]
[warehouses.credentials]
token = "file:secrets.toml#shipbob.token"
channel_id = "env:ACME_TEST_CLIENT_ID"
"""


@pytest.fixture
def secrets_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ACME_TEST_CLIENT_ID", "amzn1.application-oa2-client.test")
    write(tmp_path, "secrets.toml", f'[amazon]\nclient_secret = "{SECRET}"\n[shipbob]\ntoken = "tok-{SECRET}"\n')
    write(tmp_path, "refresh.txt", f"Atzr|{SECRET}\n")
    return tmp_path


def test_a_valid_file_loads_and_its_references_resolve(secrets_dir):
    path = write(secrets_dir, "acme.toml", GOOD)
    (cfg,) = load_sellers(path)
    assert cfg.shops[0].platform == "amazon" and cfg.warehouses[0].kind == "shipbob"
    secrets = credentials_for(cfg, cfg.shops[0].credentials, "shops[0].credentials")
    assert secrets["client_secret"] == SECRET
    assert secrets["refresh_token"] == f"Atzr|{SECRET}"
    assert SECRET not in repr(secrets) and SECRET not in str(secrets)


def test_three_distinct_mistakes_are_all_reported_with_file_and_key_path(secrets_dir):
    text = (
        GOOD.replace('platform = "amazon"', 'platform = "temoo"')
        .replace('kind = "shipbob"', 'kind = "shipbob"\ncolour = "blue"')
        .replace('countries = ["US"]', 'countries = ["US"]\npriority = "first"')
    )
    path = write(secrets_dir, "acme.toml", text)
    result = CliRunner().invoke(main, ["config", "check", str(path)])
    assert result.exit_code == 1
    out = result.output
    assert f'{path}: shops[0].platform: unknown platform "temoo" (known: aliexpress, amazon, shein, temu, tiktok)' in out
    assert f"{path}: warehouses[0].colour: unknown key" in out
    assert f"{path}: warehouses[0].priority: Expected `int`, got `str`" in out
    assert "3 problem(s)" in out
    assert SECRET not in out


def test_missing_env_var_is_named_and_inline_secret_is_refused_without_echoing_it(secrets_dir, monkeypatch):
    monkeypatch.delenv("ACME_TEST_CLIENT_ID")
    text = GOOD.replace('"file:refresh.txt"', f'"{SECRET}"')
    path = write(secrets_dir, "acme.toml", text)
    _, problems = check_file(path)
    joined = "\n".join(problems)
    assert f"{path}: shops[0].credentials.client_id: environment variable ACME_TEST_CLIENT_ID is not set" in joined
    assert f"{path}: warehouses[0].credentials.channel_id: environment variable ACME_TEST_CLIENT_ID is not set" in joined
    assert "shops[0].credentials.refresh_token: must be a reference" in joined
    assert SECRET not in joined


def test_missing_required_credential_and_bad_country_are_reported(secrets_dir):
    text = GOOD.replace('seller_id = "env:ACME_TEST_CLIENT_ID"\n', "").replace('["US"]', '["USA"]')
    _, problems = check_file(write(secrets_dir, "acme.toml", text))
    assert any("shops[0].credentials.seller_id: missing" in p for p in problems)
    assert any("warehouses[0].countries[0]: not an ISO-3166 alpha-2 code: 'USA'" in p for p in problems)


def test_missing_file_key_and_missing_file_are_named(secrets_dir):
    with pytest.raises(ValueError, match="has no key amazon.nope"):
        resolve_reference("file:secrets.toml#amazon.nope", secrets_dir)
    with pytest.raises(ValueError, match="not found"):
        resolve_reference("file:absent.txt", secrets_dir)


def test_broken_toml_is_a_clear_error(tmp_path):
    path = write(tmp_path, "bad.toml", 'seller = "x"\n[[shops]\n')
    with pytest.raises(ConfigError) as err:
        load_sellers(path)
    assert str(path) in err.value.problems[0] and "not valid TOML" in err.value.problems[0]


def test_the_same_seller_in_two_files_is_an_error(secrets_dir):
    write(secrets_dir, "a.toml", GOOD)
    write(secrets_dir, "b.toml", GOOD)
    with pytest.raises(ConfigError, match="also declared"):
        load_sellers(secrets_dir)


def test_shipped_example_sellers_pass_config_check():
    result = CliRunner().invoke(main, ["config", "check", str(REPO / "config" / "sellers")])
    assert result.exit_code == 0, result.output
    configs = load_sellers(REPO / "config" / "sellers")
    platforms = {shop.platform for cfg in configs for shop in cfg.shops}
    kinds = {wh.kind for cfg in configs for wh in cfg.warehouses}
    assert platforms == {spec.name for spec in BUILT_IN}  # a demo shop for every built-in connector
    assert kinds == {spec.name for spec in BUILT_IN_WAREHOUSES}


def test_retention_defaults_and_its_windows_are_checked(secrets_dir):
    (cfg,) = load_sellers(write(secrets_dir, "acme.toml", GOOD))
    assert (cfg.retention.hot_days, cfg.retention.tombstone_days, cfg.retention.archive_days) == (7, 90, 730)
    path = write(secrets_dir, "acme.toml", GOOD + "[retention]\nhot_days = -1\ntombstone_days = 30\narchive_days = 20\n")
    result = CliRunner().invoke(main, ["config", "check", str(path)])
    assert result.exit_code == 1
    assert f"{path}: retention.hot_days: must be 0 or more" in result.output
    assert f"{path}: retention.archive_days: must be at least retention.tombstone_days" in result.output
    (cfg,) = load_sellers(write(secrets_dir, "acme.toml", GOOD + "[retention]\nhot_days = 3\n"))
    assert cfg.retention.hot_days == 3


def test_stock_risk_terms_and_transfer_lanes_load_with_overrides_and_are_checked(secrets_dir):
    second = GOOD.split("[[warehouses]]")[1].replace('id = "wh-1"', 'id = "wh-2"').replace(
        'countries = ["US"]', 'countries = ["US"]\ncountry = "US"\nhandling_days = 2.5')
    text = (GOOD + "[[warehouses]]" + second
            + "[stock]\nlead_time_days = 10\n[stock.warehouses.wh-2]\nrisk_threshold = 0.05\n"
            + '[[transfer_lanes]]\nfrom = "wh-1"\nto = "wh-2"\ndays = 3\ncost_per_unit = 0.8\n')
    (cfg,) = load_sellers(write(secrets_dir, "acme.toml", text))
    assert cfg.stock.risk_terms("wh-1") == (10.0, 7.0, 0.2)
    assert cfg.stock.risk_terms("wh-2") == (10.0, 7.0, 0.05)
    lane = cfg.transfer_lanes[0]
    assert (lane.from_, lane.to, lane.days, lane.cost_per_unit) == ("wh-1", "wh-2", 3.0, 0.8)
    assert (cfg.warehouses[1].country, cfg.warehouses[1].handling_days) == ("US", 2.5)

    bad = (GOOD.replace('countries = ["US"]', 'countries = ["US"]\ncountry = "USA"') + "[stock]\nrisk_threshold = 1\n[stock.warehouses.wh-9]\nsafety_days = 2\n"
           + '[[transfer_lanes]]\nfrom = "wh-1"\nto = "wh-1"\ndays = -2\ncost_per_unit = -1\n')
    path = write(secrets_dir, "acme.toml", bad)
    result = CliRunner().invoke(main, ["config", "check", str(path)])
    assert result.exit_code == 1
    for problem in ("warehouses[0].country: 'USA' is not an ISO 3166-1 alpha-2 country code",
                    "stock.risk_threshold: must be a probability above 0 and below 1",
                    "stock.warehouses.wh-9: no warehouse of this seller has that id",
                    "transfer_lanes[0]: from and to are the same warehouse",
                    "transfer_lanes[0].days: must be between 0 and 3650",
                    "transfer_lanes[0].cost_per_unit: must be 0 or more"):
        assert f"{path}: {problem}" in result.output


def test_stock_feed_threshold_defaults_to_500_and_must_be_positive(secrets_dir):
    (cfg,) = load_sellers(write(secrets_dir, "acme.toml", GOOD))
    assert cfg.stock.feed_threshold == 500
    (cfg,) = load_sellers(write(secrets_dir, "acme.toml", GOOD + "[stock]\nfeed_threshold = 2000\n"))
    assert cfg.stock.feed_threshold == 2000
    path = write(secrets_dir, "acme.toml", GOOD + "[stock]\nfeed_threshold = 0\n")
    result = CliRunner().invoke(main, ["config", "check", str(path)])
    assert result.exit_code == 1
    assert f"{path}: stock.feed_threshold: must be at least 1" in result.output


def test_buyer_data_may_not_stay_in_redis_longer_than_pii_days(secrets_dir):
    (cfg,) = load_sellers(write(secrets_dir, "acme.toml", GOOD))
    assert cfg.retention.pii_days == 30
    path = write(secrets_dir, "acme.toml", GOOD + "[retention]\nhot_days = 10\npii_days = 5\n")
    result = CliRunner().invoke(main, ["config", "check", str(path)])
    assert result.exit_code == 1 and f"{path}: retention.pii_days: must be at least retention.hot_days" in result.output
