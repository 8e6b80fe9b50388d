"""The chaos run's own Redis: a `redis-server` on a free loopback port in a temp dir, AOF on, that the
run can crash and restart on the same port and dir. The shared 6379 is never touched.

Persistence: `appendonly yes`, `appendfsync everysec`. The restart is a crash of the process
(SIGKILL, no shutdown hook), not of the host: Redis write()s the AOF buffer to the kernel before it
answers the clients of that event-loop turn, so a killed process loses no acknowledged write and
the data survives in the page cache; `everysec` only bounds the loss at a power cut, which a
process kill cannot model, and `always` would slow every write of the run for no extra coverage.
SIGKILL rather than SIGTERM because SIGTERM makes Redis flush and fsync the AOF and close clients
cleanly, which tests less than the crash production has to survive.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """One redis-server process; `crash_and_restart()` SIGKILLs it and starts it again from its AOF."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
                "--maxmemory-policy", "noeviction", "--logfile", str(self.log_path)]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        self._wait_ready()
        return self

    @property
    def log_path(self) -> Path:
        return self.directory / "redis.log"

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        while time.monotonic() < deadline:
            try:
                if client.ping() and client.info("persistence").get("loading") == 0:
                    return
            except (redis.ConnectionError, redis.BusyLoadingError, redis.TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"redis-server on port {self.port} did not come up")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def crash_and_restart(self, down_seconds: float = 2.0) -> float:
        """SIGKILL, stay down a moment (clients see refused connections), start on the same port and
        dir; returns how long Redis was unavailable."""
        started = time.monotonic()
        self.kill()
        time.sleep(down_seconds)
        self.start()
        self.restarts += 1
        return time.monotonic() - started

    def stop(self) -> None:
        self.kill()
