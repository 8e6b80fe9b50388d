"""Issue 21, tenant isolation: one broken seller file took every seller down (webhooks 500, every task
failing, a bare `ConfigError` in the log); one platform shop under two sellers was imported twice; and
shops that merely shared our name shared a rate-limit bucket. Here a broken file takes only its own
seller out, logged once per change and shown by `orderhub status`; a platform shop configured twice is
reported in both files and left out under both; buckets follow the platform account."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from structlog.testing import capture_logs

from config.accounts import platform_account
from config.loader import load_config, load_sellers
from config.schema import ShopConfig
from config.secret_files import DEMO_SECRETS
from config.tenancy import SellerUnavailable
from connectors.ratelimit import RateLimiter
from orderhub.cli import main
from pipeline.errors import ConfigError
from pipeline.ports import Limit

D = DEMO_SECRETS


def tiktok_shop(shop_id: str, table: str = "tiktok-demo-us", extra: str = "") -> str:
    return f"""
[[shops]]
platform = "tiktok"
shop_id = "{shop_id}"
region = "US"
{extra}
[shops.credentials]
app_key = "file:{D}#{table}.app_key"
app_secret = "file:{D}#{table}.app_secret"
refresh_token = "file:{D}#{table}.refresh_token"
"""


AMAZON = f"""
[[shops]]
platform = "amazon"
shop_id = "alpha-amazon"
marketplace = "ATVPDKIKX0DER"
[shops.credentials]
client_id = "file:{D}#amazon-demo-us.client_id"
client_secret = "file:{D}#amazon-demo-us.client_secret"
refresh_token = "file:{D}#amazon-demo-us.refresh_token"
seller_id = "file:{D}#amazon-demo-us.seller_id"
"""

BROKEN = 'seller = "gamma"\n' + tiktok_shop("gamma-tiktok", "tiktok-demo-de", 'base_url = "http://example.com"')


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def three_files(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "sellers"
    write(folder, "alpha.toml", 'seller = "alpha"\n' + tiktok_shop("alpha-tiktok", extra="{base}") + AMAZON)
    write(folder, "beta.toml", 'seller = "beta"\n' + tiktok_shop("beta-tiktok", "tiktok-demo-gb"))
    write(folder, "gamma.toml", BROKEN)
    monkeypatch.setenv("ORDERHUB_CONFIG", str(folder))
    return folder


def test_a_broken_file_takes_only_its_seller_out_and_asking_for_it_names_the_file(three_files):
    from workers.config_cache import all_sellers, seller_config

    (three_files / "alpha.toml").write_text((three_files / "alpha.toml").read_text().replace("{base}", ""))
    assert sorted(all_sellers()) == ["alpha", "beta"]
    assert [s.shop_id for s in seller_config("alpha").shops] == ["alpha-tiktok", "alpha-amazon"]
    assert seller_config("beta").shops[0].shop_id == "beta-tiktok"
    with pytest.raises(SellerUnavailable) as err:
        seller_config("gamma")
    gamma = str(three_files / "gamma.toml")
    assert isinstance(err.value, ConfigError) and err.value.file == gamma
    assert f"{gamma}: shops[0].base_url: must be https" in str(err.value)
    with pytest.raises(KeyError, match="no seller 'nobody'"):
        seller_config("nobody")
    with pytest.raises(ConfigError):  # all-or-nothing loading stays available, and says why
        load_sellers(three_files)


def test_the_schedule_keeps_the_good_sellers_and_leaves_the_broken_one_out(three_files):
    from workers.app import beat_schedule

    (three_files / "alpha.toml").write_text((three_files / "alpha.toml").read_text().replace("{base}", ""))
    schedule = beat_schedule()
    assert {"sync:alpha:alpha-tiktok", "sync:alpha:alpha-amazon", "sync:beta:beta-tiktok"} <= set(schedule)
    assert not any("gamma" in name for name in schedule)


def test_the_problem_is_logged_once_per_change_with_the_file_and_its_first_error(three_files):
    from workers.config_cache import config_state

    (three_files / "alpha.toml").write_text((three_files / "alpha.toml").read_text().replace("{base}", ""))
    gamma = three_files / "gamma.toml"
    with capture_logs() as logs:
        for _ in range(3):
            config_state()
        gamma.write_text(BROKEN.replace('shop_id = "gamma-tiktok"', 'shop_id = "Gamma:*"'))
        config_state()
        config_state()
        gamma.write_text(BROKEN.replace("http://example.com", "https://example.com"))
        assert "gamma" in config_state().sellers
    invalid = [e for e in logs if e["event"] == "config.file_invalid"]
    assert len(invalid) == 2
    assert invalid[0]["file"] == str(gamma) and invalid[0]["seller"] == "gamma" and invalid[0]["problems"] == 1
    assert invalid[0]["first"] == f"{gamma}: shops[0].base_url: must be https (plain http only to a loopback host: " \
                                  "127.0.0.0/8, ::1, localhost)"
    assert invalid[1]["problems"] == 2 and invalid[1]["first"].startswith(f"{gamma}: shops[0].shop_id: 'Gamma:*'")
    assert [e["file"] for e in logs if e["event"] == "config.file_valid"] == [str(gamma)]


def test_orderhub_status_shows_the_broken_file_its_first_error_and_count(three_files, redis_url, prefix, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ORDERHUB_PREFIX", prefix)
    (three_files / "alpha.toml").write_text((three_files / "alpha.toml").read_text().replace("{base}", ""))
    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("queues: ")
    assert "config problems: 1 file(s) (orderhub config check lists every problem)" in lines
    assert f"  {three_files / 'gamma.toml'}: 1 problem(s), first: shops[0].base_url: must be https (plain http " \
           "only to a loopback host: 127.0.0.0/8, ::1, localhost)" in lines
    assert "alpha.toml" not in result.output and "beta.toml" not in result.output


def test_the_good_seller_syncs_for_real_while_another_file_is_broken(three_files, redis_client, prefix, store):
    from orderhub.wiring import platform_client
    from pipeline.sync import sync_orders
    from sandbox import SandboxClock, TikTokEmulator
    from sandbox.core.demo_accounts import TIKTOK_DEMO_SHOPS
    from workers.config_cache import seller_config

    clock = SandboxClock(factor=0)
    emulator = TikTokEmulator(TIKTOK_DEMO_SHOPS[:1], clock=clock, orders=6, seed=31).start()  # tiktok-demo-us
    try:
        text = (three_files / "alpha.toml").read_text().replace("{base}", f'base_url = "{emulator.url}"')
        (three_files / "alpha.toml").write_text(text)
        cfg = seller_config("alpha")
        connector, client, ref = platform_client(cfg, cfg.shop("alpha-tiktok"), redis_client, prefix, max_wait=5)
        clock.advance(60 * 3600)  # the emulator's orders are placed over its first hours
        report = sync_orders(store, connector, client, ref, now=clock.now(), lookback=timedelta(days=3))
    finally:
        emulator.stop()
    assert report.seen > 0 and store.status_counts("alpha")
    with pytest.raises(SellerUnavailable):
        seller_config("gamma")


def test_one_platform_shop_under_two_sellers_is_reported_in_both_files_and_left_out_under_both(tmp_path):
    folder = tmp_path / "sellers"
    alpha = write(folder, "alpha.toml", 'seller = "alpha"\n' + tiktok_shop("alpha-tiktok", extra="") + AMAZON)
    beta = write(folder, "beta.toml", 'seller = "beta"\n' + tiktok_shop("main") + tiktok_shop("beta-gb", "tiktok-demo-gb"))
    state = load_config(folder)
    assert state.problems[str(alpha)] == (
        f"{alpha}: shops[0]: the same tiktok shop as {beta} shops[0] (seller beta, shop main); it is left out "
        "under every seller until only one file keeps it",)
    assert state.problems[str(beta)] == (
        f"{beta}: shops[0]: the same tiktok shop as {alpha} shops[0] (seller alpha, shop alpha-tiktok); it is left "
        "out under every seller until only one file keeps it",)
    # the rest of each seller runs on
    assert [s.shop_id for s in state.sellers["alpha"].shops] == ["alpha-amazon"]
    assert [s.shop_id for s in state.sellers["beta"].shops] == ["beta-gb"]
    result = CliRunner().invoke(main, ["config", "check", str(folder)])
    assert result.exit_code == 1 and "2 problem(s) in 2 of 2 file(s)" in result.output


def test_the_platform_shop_id_option_names_the_same_shop_whatever_the_credentials(tmp_path):
    folder = tmp_path / "sellers"
    same = 'options = { platform_shop_id = "7494000000000000101" }'
    write(folder, "alpha.toml", 'seller = "alpha"\n' + tiktok_shop("alpha-tiktok", extra=same))
    write(folder, "beta.toml", 'seller = "beta"\n' + tiktok_shop("beta-tiktok", "tiktok-demo-gb", extra=same))
    write(folder, "delta.toml", 'seller = "delta"\n' + tiktok_shop("delta-tiktok", "tiktok-demo-fr"))
    state = load_config(folder)
    assert sorted(Path(f).name for f in state.problems) == ["alpha.toml", "beta.toml"]
    assert state.sellers["alpha"].shops == [] and state.sellers["beta"].shops == []
    assert [s.shop_id for s in state.sellers["delta"].shops] == ["delta-tiktok"]


def test_a_seller_declared_in_two_files_runs_from_neither_and_the_others_run(tmp_path):
    folder = tmp_path / "sellers"
    write(folder, "a.toml", 'seller = "alpha"\n' + tiktok_shop("a-tiktok"))
    write(folder, "b.toml", 'seller = "alpha"\n' + tiktok_shop("b-tiktok", "tiktok-demo-gb"))
    write(folder, "c.toml", 'seller = "gamma"\n' + tiktok_shop("c-tiktok", "tiktok-demo-fr"))
    state = load_config(folder)
    assert sorted(state.sellers) == ["gamma"]
    with pytest.raises(SellerUnavailable, match="is also declared in"):
        state.seller("alpha")
    assert len(state.problems) == 2


def shop(shop_id: str, **secrets: str) -> tuple[ShopConfig, dict[str, str]]:
    creds = {"app_key": "app-0001", "app_secret": "app-secret-0001", "refresh_token": "rt-0001"} | secrets
    return ShopConfig(platform="tiktok", shop_id=shop_id, region="US", credentials={k: f"env:{k}" for k in creds}), creds


def test_rate_buckets_follow_the_platform_account_not_our_shop_name(redis_client, prefix):
    from connectors.tiktok.client import TikTokClient

    limiter = RateLimiter(redis_client, prefix)
    one = Limit(rate=0.001, burst=1)  # one token, refilled in ~17 minutes: a second take must wait

    def account(shop_id: str, **secrets: str) -> str:
        cfg, creds = shop(shop_id, **secrets)
        return TikTokClient(cfg, creds, limiter).transport.account

    same_a, same_b = account("alpha-main"), account("beta-main")  # one TikTok shop under two names
    other = account("alpha-main", refresh_token="rt-0002")  # another shop, named like the first
    assert same_a == same_b != other
    assert ":" not in same_a and "rt-0001" not in same_a and "app-0001" not in same_a
    assert limiter.try_take("tiktok", same_a, "orders", one) == 0
    assert limiter.try_take("tiktok", same_b, "orders", one) > 0  # the same account: the same bucket
    assert limiter.try_take("tiktok", other, "orders", one) == 0  # same shop name, other account: its own


def test_same_named_shops_of_two_shein_accounts_no_longer_share_a_bucket(redis_client, prefix):
    import tomllib

    from connectors.shein.client import SheinClient

    demo = tomllib.loads(D.read_text())
    limiter = RateLimiter(redis_client, prefix)
    accounts = []
    for table in ("shein-demo-us", "shein-demo-eu"):
        creds = {k: str(demo[table][k]) for k in ("app_id", "app_secret", "open_key_id", "secret_key")}
        cfg = ShopConfig(platform="shein", shop_id="main", credentials={k: f"env:{k}" for k in creds})
        accounts.append(SheinClient(cfg, creds, limiter).transport.account)
    assert accounts[0] != accounts[1]
    assert accounts[0] == platform_account(ShopConfig(platform="shein", shop_id="other", credentials={}),
                                           {"open_key_id": str(demo["shein-demo-us"]["open_key_id"])})
