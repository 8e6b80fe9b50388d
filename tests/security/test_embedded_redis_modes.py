"""The embedded Redis keeps buyer data private to its user (issue 21: its append-only file was 0644).

A real embedded server is started in a temporary ORDERHUB_HOME, made to write every file it writes
(AOF, RDB, log, pid), and each one's mode is read back.
"""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest
import redis

from orderhub.runtime.redisconn import ensure_embedded, stop_embedded


def modes(home: Path) -> dict[str, int]:
    """The permission bits of `home` and of everything under it, by path relative to `home`."""
    found = {".": stat.S_IMODE(home.lstat().st_mode)}
    for root, dirs, files in os.walk(home):
        for name in dirs + files:
            path = Path(root, name)
            found[str(path.relative_to(home))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def loose(home: Path) -> dict[str, str]:
    """Every entry under `home` that its group or others may read, write or enter."""
    return {name: oct(mode) for name, mode in modes(home).items() if mode & 0o077}


@pytest.fixture
def home(tmp_path):
    path = tmp_path / "oh"
    yield path
    stop_embedded(path)


def _write_buyer_data_to_disk(url: str, home: Path) -> None:
    client = redis.Redis.from_url(url, socket_timeout=10)
    client.hset("order:1", mapping={"name": "Zebulon Quixotic-Testperson", "line1": "1 Test Street"})
    client.save()  # dump.rdb
    client.bgrewriteaof()  # a rewritten AOF file, as a long-running server makes
    deadline = time.monotonic() + 10
    while client.info("persistence")["aof_rewrite_in_progress"] and time.monotonic() < deadline:
        time.sleep(0.05)
    client.close()


def test_embedded_redis_data_directory_is_0700_and_every_file_0600(home):
    old_umask = os.umask(0o022)  # a usual login umask: the server must not inherit it
    try:
        url = ensure_embedded(home)
    finally:
        os.umask(old_umask)
    _write_buyer_data_to_disk(url, home)
    found = modes(home)
    assert found["."] == 0o700
    for name in ("appendonly.aof", "dump.rdb", "redis.log", "redis.pid", "redis.lock"):
        assert found.get(name) == 0o600, (name, oct(found.get(name, 0)), found)
    assert not loose(home), loose(home)
    stop_embedded(home)  # a shutdown save writes the RDB once more
    assert not loose(home), loose(home)


def test_a_data_directory_left_open_by_an_older_version_is_closed_at_start(home):
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    (home / "appendonly.aof").write_bytes(b"")  # an empty AOF loads as an empty data set
    (home / "appendonly.aof").chmod(0o644)
    (home / "stale").mkdir()
    (home / "stale").chmod(0o755)
    (home / "stale" / "dump.rdb").write_bytes(b"x")
    (home / "stale" / "dump.rdb").chmod(0o666)
    assert loose(home)
    ensure_embedded(home)
    assert not loose(home), loose(home)
