"""Shared test fixtures: a real Redis, a key prefix per test, and a capture of every log line.

Redis: 127.0.0.1:6379 when it answers; else a local redis-server is started there if the binary
exists; else the embedded server. Keys are namespaced per run and deleted at the end; nothing is
ever flushed, so a shared server is safe.
"""

from __future__ import annotations

import io
import itertools
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import redis

import connectors.registry  # noqa: F401 (installs the registered platform names Order validation reads)
from orderhub.runtime.logs import configure_logging

RUN_ID = f"test-{uuid.uuid4().hex[:8]}"
LOG_CAPTURE = io.StringIO()
_counter = itertools.count()


def _ping(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def find_test_redis(tmp_root: Path) -> str:
    url = os.environ.get("ORDERHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    if _ping(url):
        return url
    if shutil.which("redis-server") and url.startswith("redis://127.0.0.1:6379"):
        subprocess.run(
            ["redis-server", "--daemonize", "yes", "--port", "6379", "--save", "", "--appendonly", "no"],
            check=False,
        )
        for _ in range(50):
            if _ping(url):
                return url
            time.sleep(0.1)
    from orderhub.runtime.redisconn import ensure_embedded

    return ensure_embedded(tmp_root / "embedded-redis")


def pytest_configure(config: pytest.Config) -> None:
    # Every log line of the whole run, JSON, for the hygiene test that runs last.
    configure_logging(json=True, level="DEBUG", stream=LOG_CAPTURE)
    os.environ.setdefault("ORDERHUB_PREFIX", RUN_ID)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="also run long soak/chaos tests")
    parser.addoption("--chaos", action="store_true",
                     help="tests/chaos runs the full 100,000-order chaos run instead of the reduced one")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="long run: use --run-slow")
    for item in items:
        if "slow" in item.keywords and not config.getoption("--run-slow"):
            item.add_marker(skip)
        if {"integration", "chaos"} & set(item.path.parts):
            # Tests with Celery worker subprocesses take both cores each: under `-n 2 --dist loadgroup`
            # they run one after another on one xdist worker, beside the in-process tests.
            item.add_marker(pytest.mark.xdist_group("celery-workers"))


@pytest.fixture(scope="session", autouse=True)
def _no_secret_or_pii_logged():
    """Checked when the session ends, so lines logged after the hygiene test (or in another xdist
    worker, which has its own capture) are covered too."""
    yield
    from tests.log_hygiene import leaked_values

    leaked = leaked_values(LOG_CAPTURE.getvalue())
    if leaked:
        pytest.fail(f"{len(leaked)} sensitive value(s) found in this process's logs", pytrace=False)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return find_test_redis(tmp_path_factory.mktemp("redis"))


@pytest.fixture(scope="session")
def redis_client(redis_url: str):
    client = redis.Redis.from_url(redis_url)
    yield client
    batch: list[bytes] = []
    for key in client.scan_iter(match=f"{RUN_ID}*", count=10_000):  # hundreds of thousands of keys by now
        batch.append(key)
        if len(batch) == 5_000:
            client.unlink(*batch)
            batch.clear()
    if batch:
        client.unlink(*batch)


@pytest.fixture
def prefix() -> str:
    """A key prefix of this test's own."""
    return f"{RUN_ID}-{next(_counter)}"


@pytest.fixture
def store(redis_client, prefix):
    from pipeline.store import OrderStore

    return OrderStore(redis_client, prefix)


@pytest.fixture
def http_server():
    """A scripted HTTP/1.1 server on 127.0.0.1 (tests/scripted_http.py) standing in for a platform or
    warehouse API over a real socket, whatever HTTP client the transport uses. Script replies with
    `http_server.get/post/put/patch/delete/add`, build clients on `http_server.url`, read
    `http_server.calls`. A request nothing was scripted for fails the test at teardown."""
    from tests.scripted_http import ScriptedHTTPServer

    with ScriptedHTTPServer() as server:
        yield server
        server.assert_no_unmatched()
