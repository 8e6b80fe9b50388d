"""A benchmark's Redis: a private redis-server of its own, or an empty database claimed on a shared one.

Apart from the world because it outlives it (the world is built on the URL this yields) and knows
nothing of platforms; a private server also makes its command counters count this benchmark only.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import redis


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of our own on a free loopback port (no persistence): its command counters
    count only this benchmark, and nobody else's data is near it."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed; pass --redis-url to use a shared server")
    home = Path(tempfile.mkdtemp(prefix="orderhub-bench-redis-"))
    port = _free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(home), "--maxmemory-policy", "noeviction"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            with suppress(redis.ConnectionError):
                if redis.Redis.from_url(url).ping():
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("private redis-server did not start")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(home, ignore_errors=True)


@contextmanager
def claimed_db(shared_url: str) -> Iterator[str]:
    """An empty database on a shared server, claimed and released like the worker tests do."""
    from tests.integration.workers import free_db, release_db

    url = free_db(shared_url)
    try:
        yield url
    finally:
        release_db(shared_url, url)


@contextmanager
def bench_redis(shared_url: str | None) -> Iterator[tuple[str, bool]]:
    """(url, shared): a private server unless a shared one is asked for."""
    if shared_url:
        with claimed_db(shared_url) as url:
            yield url, True
    else:
        with private_redis() as url:
            yield url, False


def commands_processed(client: redis.Redis) -> int:
    return int(client.info("stats")["total_commands_processed"])
