"""A connector from outside Orderhub plugs in through entry points alone, and the contract holds for it.

tests/plugins/orderhub_example_connector is a package of its own: ExampleMart, a made-up marketplace
(pyproject.toml with an `orderhub.connectors` and an `orderhub.contract_harnesses` entry point; a
client, a mapping, an emulator on the sandbox's base). pip builds and installs it into a scratch
directory, never into the venv; child processes put that directory on their path. There the registry
lists ExampleMart, so do Order and config validation, and the contract suite's sync tests
(parametrized over the registry) run on it unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.registry import PLATFORMS

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "tests" / "plugins" / "orderhub_example_connector"

SELLER = """
seller = "acme"
[[shops]]
platform = "examplemart"
shop_id = "acme-em"
[shops.credentials]
{credentials}
[[warehouses]]
id = "wh-1"
kind = "shipbob"
countries = ["US"]
[warehouses.credentials]
token = "env:PLUGIN_TEST_SECRET"
channel_id = "env:PLUGIN_TEST_SECRET"
"""

# Run in the child: what the registry, Order validation and config validation say about ExampleMart.
PROBE = """
import json, sys
from pathlib import Path
from config.loader import check_file
from connectors.registry import PLATFORMS
from pipeline import model
print(json.dumps({"registry": list(PLATFORMS), "orders": sorted(model.PLATFORMS),
                  "credentials": list(PLATFORMS["examplemart"].credentials),
                  "checks": [check_file(Path(arg))[1] for arg in sys.argv[1:]]}))
"""


@pytest.fixture(scope="module")
def plugin_site() -> Iterator[Path]:
    """The plugin built and installed by pip into a scratch directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="orderhub-plugin-") as scratch:
        source = shutil.copytree(PLUGIN, Path(scratch) / "src")  # the build writes build/ and egg-info beside it
        site = Path(scratch) / "site"
        done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                               "--no-build-isolation", "--target", str(site), str(source)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        yield site


def child(site: Path, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """`python *args` in the repository with the plugin on its path (and its own test key prefix)."""
    env = {k: v for k, v in os.environ.items() if k != "ORDERHUB_PREFIX"}
    env |= {"PYTHONPATH": str(site), "PLUGIN_TEST_SECRET": "plugin-test-secret"}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_the_plugin_is_known_only_where_it_is_installed(plugin_site, tmp_path):
    assert "examplemart" not in PLATFORMS  # nothing in Orderhub names it: only its entry point does
    good = tmp_path / "good.toml"
    good.write_text(SELLER.format(credentials='api_key = "env:PLUGIN_TEST_SECRET"'))
    missing = tmp_path / "missing.toml"
    missing.write_text(SELLER.format(credentials=""))

    done = child(plugin_site, "-c", PROBE, str(good), str(missing), timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout)
    assert seen["registry"] == sorted([*PLATFORMS, "examplemart"])
    assert seen["orders"] == seen["registry"]  # Order validation reads the same registry
    assert seen["credentials"] == ["api_key"]
    good_problems, missing_problems = seen["checks"]
    assert good_problems == []
    assert missing_problems == [f"{missing}: shops[0].credentials.api_key: missing (a examplemart connection needs it)"]


def test_the_contract_suite_runs_on_the_plugin_unchanged(plugin_site):
    """Exactly-once sync of 5,000 orders, the wrong secret refused, malformed payloads held; and the
    suite's own check that every registered connector has a harness (the plugin brings its own)."""
    done = child(plugin_site, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/contract/test_sync_contract.py",
                 "-k", "examplemart or every_registered_connector", timeout=900)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert summary.startswith("4 passed"), summary
