"""Real Celery worker and beat processes for integration tests, on a Redis database of their own.

Workers run as `celery -A workers worker` subprocesses in their own process group, so a test can
SIGKILL one (and its pool children) mid-run and start another, as happens in production.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import redis

from workers.app import QUEUES  # a tuple of queue names: `llen` each, `-Q` takes them joined

CELERY = str(Path(sys.executable).parent / "celery")


def free_db(redis_url: str) -> str:
    """A Redis URL on an empty database no other test run has claimed (Celery's queue keys cannot be
    prefixed, so worker tests get a database of their own). Only empty databases are taken, so the
    clean-up at release deletes nothing this run did not write."""
    base = redis_url.rsplit("/", 1)[0]
    client = redis.Redis.from_url(redis_url)
    for db in range(2, 16):
        url = f"{base}/{db}"
        if redis.Redis.from_url(url).dbsize() == 0 and client.set(f"orderhub-test-db-claim:{db}", os.getpid(),
                                                                     nx=True, ex=1800):
            return url
    raise RuntimeError("no free Redis database for a worker test")


def release_db(redis_url: str, url: str) -> None:
    db = int(url.rsplit("/", 1)[1])
    redis.Redis.from_url(url).flushdb()
    redis.Redis.from_url(redis_url).delete(f"orderhub-test-db-claim:{db}")


class WorkerProcess:
    def __init__(self, env: dict[str, str], name: str, concurrency: int = 2, beat: bool = False,
                 log_dir: Path | None = None) -> None:
        args = [CELERY, "-A", "workers", "beat" if beat else "worker", "-l", "info"]
        if not beat:
            args += ["-Q", ",".join(QUEUES), "-c", str(concurrency), "-n", f"{name}@%h", "--without-gossip",
                     "--without-mingle", "-O", "fair"]
        else:
            args += ["-s", str((log_dir or Path("/tmp")) / f"beat-{name}.db"), "--max-interval", "1"]
        self.log_path = (log_dir or Path("/tmp")) / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(args, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def kill(self) -> None:
        """SIGKILL the whole process group: the worker and its pool children, no warm shutdown."""
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self, timeout: float = 20) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running(env: dict[str, str], names: list[str], log_dir: Path, beat: bool = True) -> Iterator[list[WorkerProcess]]:
    procs = [WorkerProcess(env, name, log_dir=log_dir) for name in names]
    if beat:
        procs.append(WorkerProcess(env, "beat", beat=True, log_dir=log_dir))
    try:
        yield procs
    finally:
        for proc in procs:
            proc.stop()


def wait_until(predicate, timeout: float, interval: float = 0.5, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
