"""Issue 21, config and secrets: `file:` references confined to the secrets directory, secrets file modes,
https base URLs, the id charset, every problem of a section reported under a type error, and files that
are not UTF-8 or not TOML. Each reproduction of the review is refused by `config check` in one pass."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from config.credentials import resolve_reference
from config.loader import check_file, inspect_file
from config.rules import base_url_problem
from config.secret_files import DEMO_SECRETS
from orderhub.cli import main

SECRET = "hostile-config-secret-value-0001"

SELLER = """
seller = "acme"
[[shops]]
platform = "amazon"
shop_id = "acme-us"
marketplace = "ATVPDKIKX0DER"
[shops.credentials]
client_id = "file:secrets/acme.toml#amazon.client_id"
client_secret = "file:secrets/acme.toml#amazon.client_secret"
refresh_token = "{refresh}"
seller_id = "file:secrets/acme.toml#amazon.seller_id"
"""


def secret_file(folder: Path, name: str, text: str, mode: int = 0o600) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "sellers"
    (folder / "secrets").mkdir(parents=True)  # a folder of its own: a *.toml beside the sellers is a seller file
    secret_file(folder / "secrets", "acme.toml",
                f'[amazon]\nclient_id = "cid-0001"\nclient_secret = "{SECRET}"\nseller_id = "A1TEST"\n')
    secret_file(folder, "refresh.txt", f"Atzr|{SECRET}\n")
    return folder


def seller_file(folder: Path, refresh: str = "file:refresh.txt", **replace: str) -> Path:
    text = SELLER.format(refresh=refresh)
    for old, new in replace.items():
        text = text.replace(old, new)
    path = folder / "acme.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> str:
    return "\n".join(check_file(path)[1])


def test_the_baseline_file_loads_with_no_warning(config_dir):
    report = inspect_file(seller_file(config_dir))
    assert report.config is not None and report.problems == () and report.warnings == ()


@pytest.mark.parametrize("reference", ["file:/etc/shadow", "file:/etc/passwd", "file:../../../../etc/passwd",
                                       "file:../../../../../../../../../etc/passwd#root"])
def test_absolute_and_traversal_references_are_refused_without_reading_the_file(config_dir, reference):
    out = problems_of(seller_file(config_dir, refresh=reference))
    assert "shops[0].credentials.refresh_token: secrets file" in out and "outside the secrets directory" in out
    assert "root:" not in out  # nothing of /etc/passwd's content


def test_a_symlink_pointing_out_of_the_secrets_directory_is_refused_and_one_inside_is_followed(config_dir, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    secret_file(outside, "token.txt", "stolen-token-value-0001\n")
    (config_dir / "out-link.txt").symlink_to(outside / "token.txt")
    (config_dir / "in-link.txt").symlink_to(config_dir / "refresh.txt")
    out = problems_of(seller_file(config_dir, refresh="file:out-link.txt"))
    assert "secrets file out-link.txt is outside the secrets directory" in out
    assert "stolen-token-value-0001" not in out
    assert problems_of(seller_file(config_dir, refresh="file:in-link.txt")) == ""
    # the same link, one folder up: a relative path whose parent is a link out is caught too
    (config_dir / "dir-link").symlink_to(outside)
    assert "outside the secrets directory" in problems_of(seller_file(config_dir, refresh="file:dir-link/token.txt"))


def test_the_secrets_directory_setting_replaces_the_config_folder(config_dir, tmp_path, monkeypatch):
    vault = tmp_path / "vault"
    vault.mkdir()
    secret_file(vault, "refresh.txt", "Atzr|vault-token-0001\n")
    monkeypatch.setenv("ORDERHUB_SECRETS_DIR", str(vault))
    out = problems_of(seller_file(config_dir, refresh=f"file:{vault / 'refresh.txt'}"))
    # the vault file resolves; the files next to the seller file are now outside
    assert "refresh_token" not in out
    assert f"shops[0].credentials.client_id: secrets file secrets/acme.toml is outside the secrets directory {vault}" in out
    assert resolve_reference(f"file:{vault / 'refresh.txt'}", config_dir) == "Atzr|vault-token-0001"


def test_the_shipped_demo_secrets_file_is_the_one_file_allowed_outside(config_dir):
    assert resolve_reference(f"file:{DEMO_SECRETS}#fourpx-demo.app_key", config_dir) == "orderhub-demo-4px-app-key"
    with pytest.raises(ValueError, match="outside the secrets directory"):
        resolve_reference(f"file:{DEMO_SECRETS.parent / 'core' / 'demo_accounts.py'}", config_dir)


@pytest.mark.parametrize(("mode", "who"), [(0o666, "its group and every user"), (0o620, "its group"),
                                           (0o602, "every user")])
def test_a_secrets_file_others_can_write_is_refused(config_dir, mode, who):
    (config_dir / "refresh.txt").chmod(mode)
    out = problems_of(seller_file(config_dir))
    assert f"refresh.txt is writable by {who} (mode {mode:04o}): chmod go-w it" in out
    assert SECRET not in out


def test_a_world_readable_secrets_file_is_used_with_a_warning_that_config_check_prints(config_dir):
    (config_dir / "refresh.txt").chmod(0o644)
    path = seller_file(config_dir)
    report = inspect_file(path)
    assert report.config is not None and report.problems == ()
    assert report.warnings == (f"{path}: secrets file {(config_dir / 'refresh.txt').resolve()} is readable by "
                               "every user (mode 0644): chmod o-r it",)
    result = CliRunner().invoke(main, ["config", "check", str(config_dir)])
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output and "readable by every user" in result.output
    assert "ok: 1 seller file(s) valid, 1 warning(s)" in result.output


def test_a_device_a_non_utf8_and_a_non_toml_secrets_file_are_clear_errors(config_dir, monkeypatch):
    (config_dir / "binary.txt").write_bytes(b"\xff\xfe token")
    (config_dir / "binary.txt").chmod(0o600)
    with pytest.raises(ValueError, match=r"binary.txt is not UTF-8 text \(byte 0\)"):
        resolve_reference("file:binary.txt", config_dir)
    secret_file(config_dir, "broken.toml.secret", f'amazon = "{SECRET}" junk\n')
    with pytest.raises(ValueError, match=r"is not valid TOML \(line 1\)") as err:
        resolve_reference("file:broken.toml.secret#amazon", config_dir)
    assert SECRET not in str(err.value)
    monkeypatch.setenv("ORDERHUB_SECRETS_DIR", "/dev")
    with pytest.raises(ValueError, match="is not a regular file"):  # and it returns: no endless read
        resolve_reference("file:/dev/zero", config_dir)


@pytest.mark.parametrize("url", ["http://example.com", "http://10.0.0.1:8080", "http://127.0.0.1.nip.io",
                                 "ftp://example.com", "https://", "https://user:pw-0001@api.example.com",
                                 "https://exa mple.com", "http://[::2]/"])
def test_a_base_url_that_is_not_https_or_loopback_is_refused_without_being_quoted(config_dir, url):
    out = problems_of(seller_file(config_dir, **{'marketplace = "ATVPDKIKX0DER"':
                                                 f'marketplace = "ATVPDKIKX0DER"\nbase_url = "{url}"'}))
    assert "shops[0].base_url: " in out
    assert "pw-0001" not in out


@pytest.mark.parametrize("url", ["", "sandbox", "https://sellingpartnerapi-na.amazon.com", "http://127.0.0.1:8080",
                                 "http://127.8.9.10/x", "http://[::1]:9000", "http://localhost:1234"])
def test_https_loopback_and_sandbox_base_urls_are_allowed(url):
    assert base_url_problem(url) is None


@pytest.mark.parametrize(("field", "value"), [("shop_id", "a:b*"), ("shop_id", "Acme-US"), ("shop_id", ""),
                                              ("shop_id", "x" * 65), ("seller", "a:b"), ("seller", "-acme"),
                                              ("seller", "acme/../x")])
def test_ids_outside_the_documented_charset_are_refused(config_dir, field, value):
    old = 'shop_id = "acme-us"' if field == "shop_id" else 'seller = "acme"'
    out = problems_of(seller_file(config_dir, **{old: f'{field} = "{value}"'}))
    assert f"{field}: " in out and r"must match ^[a-z0-9][a-z0-9_.-]{0,63}$" in out


def test_a_bad_warehouse_id_is_refused_and_the_documented_charset_fits_the_demo_ids(config_dir):
    text = seller_file(config_dir).read_text() + """
[[warehouses]]
id = "wh:1*"
kind = "shipbob"
countries = ["US"]
[warehouses.credentials]
token = "file:secrets/acme.toml#amazon.client_id"
channel_id = "file:secrets/acme.toml#amazon.client_id"
"""
    (config_dir / "acme.toml").write_text(text)
    assert "warehouses[0].id: 'wh:1*' must match" in problems_of(config_dir / "acme.toml")


def test_every_problem_of_a_section_is_reported_under_a_type_error(config_dir):
    path = seller_file(config_dir, refresh="file:../../../../etc/passwd", **{
        'platform = "amazon"': 'platform = "amazon"\npoll_interval_seconds = "often"\nenabled = "yes"',
        'shop_id = "acme-us"': 'shop_id = "a:b*"',
        'marketplace = "ATVPDKIKX0DER"': 'marketplace = "ATVPDKIKX0DER"\nbase_url = "http://example.com"'})
    path.write_text(path.read_text() + '[stock]\ninterval_seconds = "hourly"\nsafety_buffer = -1\n')
    result = CliRunner().invoke(main, ["config", "check", str(path)])
    assert result.exit_code == 1
    out = result.output
    for expected in ("shops[0].poll_interval_seconds: Expected `int`, got `str`",
                     "shops[0].enabled: Expected `bool`, got `str`",
                     "shops[0].shop_id: 'a:b*' must match",
                     "shops[0].base_url: must be https",
                     "shops[0].credentials.refresh_token: secrets file ../../../../etc/passwd is outside",
                     "stock.interval_seconds: Expected `int`, got `str`",
                     "stock.safety_buffer: must be >= 0"):
        assert f"{path}: {expected}" in out, expected
    assert "7 problem(s) in 1 of 1 file(s)" in out


def test_a_type_error_in_a_required_field_still_lets_the_other_fields_be_checked(config_dir):
    path = seller_file(config_dir, **{'platform = "amazon"': "platform = 7", 'shop_id = "acme-us"': 'shop_id = "A:B"'})
    out = problems_of(path)
    assert "shops[0].platform: Expected `str`, got `int`" in out
    assert "shops[0].shop_id: 'A:B' must match" in out
    assert "unknown platform" not in out  # the mistyped platform is not judged a second time


def test_a_non_utf8_and_a_non_toml_seller_file_are_one_clear_line_each(tmp_path):
    (tmp_path / "latin1.toml").write_bytes('seller = "acme"\nname = "Caf\xe9"\n'.encode("latin-1"))
    (tmp_path / "json.toml").write_text('{"seller": "globex"}\n')
    result = CliRunner().invoke(main, ["config", "check", str(tmp_path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # no traceback
    assert "Traceback" not in result.output
    lines = result.output.splitlines()
    assert f"{tmp_path / 'latin1.toml'}: not UTF-8 text (first bad byte at offset 27): save the file as UTF-8" in lines
    assert any(line.startswith(f"{tmp_path / 'json.toml'}: not valid TOML: ") for line in lines)
    assert "2 problem(s) in 2 of 2 file(s)" in lines


def test_the_runtime_resolution_refuses_what_the_check_refuses(config_dir):
    from config.loader import credentials_for
    from config.schema import SellerConfig, ShopConfig
    from pipeline.errors import ConfigError

    shop = ShopConfig(platform="amazon", shop_id="acme-us", credentials={"refresh_token": "file:/etc/passwd"})
    cfg = SellerConfig(seller="acme", shops=[shop], source=str(config_dir / "acme.toml"))
    with pytest.raises(ConfigError, match="outside the secrets directory") as err:
        credentials_for(cfg, shop.credentials, "shops[0].credentials")
    assert "root:" not in str(err.value)
    assert os.access("/etc/passwd", os.R_OK)  # the file was there to read: the refusal is the rule's
