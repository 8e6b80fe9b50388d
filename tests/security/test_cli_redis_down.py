"""With Redis unreachable or silent, every command that reads it prints one line (which URL, password
hidden, and what to check) and exits 2 within seconds (issue 21: raw redis-py tracebacks).

Unreachable: a port nothing listens on. Silent: a loopback socket that accepts connections and never
answers, as a paused (SIGSTOP) or wedged server does. Both in-process (CliRunner) and as real processes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from orderhub.cli import main
from orderhub.cli.common import REDIS_TIMEOUT

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "pw-Redis-down-7731"
SELLER_FILE = """
seller = "acme"
[[shops]]
platform = "amazon"
shop_id = "acme-amazon-us"
countries = ["US"]
[shops.credentials]
client_id = "env:REDIS_DOWN_TEST_SECRET"
client_secret = "env:REDIS_DOWN_TEST_SECRET"
refresh_token = "env:REDIS_DOWN_TEST_SECRET"
seller_id = "env:REDIS_DOWN_TEST_SECRET"
[[warehouses]]
id = "east"
kind = "shipbob"
countries = ["US"]
[warehouses.credentials]
token = "env:REDIS_DOWN_TEST_SECRET"
channel_id = "env:REDIS_DOWN_TEST_SECRET"
"""
COMMANDS = {
    "status": ["status"],
    "holds list": ["holds", "list"],
    "order show": ["order", "show", "amazon:acme-amazon-us:111-0000000-0000000"],
    "stock show": ["stock", "show", "MUG-01"],
    "sync now": ["sync", "now", "--seller", "acme"],
    "holds replay": ["holds", "replay", "--reason", "UNKNOWN_SKU"],
}


@pytest.fixture
def config_dir(tmp_path, monkeypatch) -> Path:
    (tmp_path / "acme.toml").write_text(SELLER_FILE)
    monkeypatch.setenv("ORDERHUB_CONFIG", str(tmp_path))
    monkeypatch.setenv("REDIS_DOWN_TEST_SECRET", "secret-value-redis-down")
    return tmp_path


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port whose kernel completes the handshake and whose owner never reads or answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(128)
    yield server.getsockname()[1]
    server.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again on return: nothing listens there


def assert_one_clear_line(text: str, port: int, what: str) -> None:
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("{")]  # JSON: log lines
    assert len(lines) == 1, text
    assert lines[0].startswith(f"orderhub: Redis at redis://***@127.0.0.1:{port}/0 {what}"), text
    assert "check " in lines[0], text
    assert "Traceback" not in text and "redis.exceptions" not in text, text
    assert PASSWORD not in text, text


@pytest.mark.parametrize("name", list(COMMANDS))
def test_unreachable_redis_is_one_line_and_exit_2(name, config_dir, monkeypatch):
    port = closed_port()
    monkeypatch.setenv("REDIS_URL", f"redis://:{PASSWORD}@127.0.0.1:{port}/0")
    started = time.monotonic()
    result = CliRunner().invoke(main, COMMANDS[name])
    assert time.monotonic() - started < 5  # no timeout waited (a first run also imports the workers' modules)
    assert result.exit_code == 2, (result.output, result.exception)
    assert_one_clear_line(result.output, port, "is unreachable")
    assert "running" in result.output


def test_silent_redis_times_out_within_seconds(config_dir, silent_port, monkeypatch):
    monkeypatch.setenv("REDIS_URL", f"redis://:{PASSWORD}@127.0.0.1:{silent_port}/0")
    started = time.monotonic()
    result = CliRunner().invoke(main, COMMANDS["status"])
    took = time.monotonic() - started
    assert result.exit_code == 2, (result.output, result.exception)
    assert_one_clear_line(result.output, silent_port, f"did not answer within {REDIS_TIMEOUT:g} s")
    assert REDIS_TIMEOUT - 0.5 <= took < REDIS_TIMEOUT + 3, took  # one bounded wait, no retries


def _run_all(env_updates: dict[str, str]) -> dict[str, tuple[subprocess.CompletedProcess, float]]:
    """Every command as its own `orderhub` process, all at once; (result, seconds) by command."""
    env = {**os.environ, "LOG_FORMAT": "json", **env_updates}
    code = "from orderhub.cli import main; main()"
    started = time.monotonic()
    procs = {name: subprocess.Popen([sys.executable, "-c", code, *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for name, args in COMMANDS.items()}
    done = {}
    for name, proc in procs.items():
        try:
            out, err = proc.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail(f"`orderhub {name}` still running after 40 s")
        done[name] = (subprocess.CompletedProcess(proc.args, proc.returncode, out, err), time.monotonic() - started)
    return done


@pytest.mark.parametrize("kind", ["unreachable", "silent"])
def test_each_command_as_a_process_prints_one_line_and_exits_2(kind, config_dir, silent_port):
    port = closed_port() if kind == "unreachable" else silent_port
    what = "is unreachable" if kind == "unreachable" else "did not answer within"
    results = _run_all({"REDIS_URL": f"redis://:{PASSWORD}@127.0.0.1:{port}/0", "ORDERHUB_CONFIG": str(config_dir),
                        "REDIS_DOWN_TEST_SECRET": "secret-value-redis-down"})
    for name, (result, took) in results.items():
        assert result.returncode == 2, (name, result.stdout, result.stderr)
        assert result.stdout == "", (name, result.stdout)
        assert_one_clear_line(result.stderr, port, what)
        assert took < 30, (name, took)  # six interpreters start at once on a shared machine: a loose bound


def test_embedded_redis_that_cannot_start_is_one_line_and_exit_2(config_dir, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("ORDERHUB_HOME", str(blocker / "home"))
    result = CliRunner().invoke(main, ["holds", "list"])
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"orderhub: Redis at unix://{blocker / 'home' / 'redis.sock'} "), lines
    assert "Traceback" not in result.output and "set REDIS_URL" in lines[0]


def test_a_password_in_the_url_query_is_hidden_too(config_dir, monkeypatch):
    port = closed_port()
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}/0?password={PASSWORD}")
    result = CliRunner().invoke(main, ["holds", "list"])
    assert result.exit_code == 2 and PASSWORD not in result.output
    assert f"redis://127.0.0.1:{port}/0?password=***" in result.output
