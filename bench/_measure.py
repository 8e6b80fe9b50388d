"""What the pipeline benchmark reads off a run: idle queues, worker and Redis CPU, Redis command
counts, per-stage task time, percentiles, and py-spy profiles of the processes while a phase runs.

Apart from the benchmark's phases so that each phase reads as what it does, not how it is measured.
"""

from __future__ import annotations

import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from bench._workers import QUEUES, Celery, cpu_seconds
from bench._world import PREFIX
from pipeline import keys


def queues_idle(client: redis.Redis, queues: str = QUEUES) -> bool:
    return all(client.llen(q) == 0 for q in queues.split(",")) and client.hlen("unacked") == 0


def wait_for(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll `predicate` every `interval` seconds until it holds (True) or `timeout` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def ping(app_name: str, timeout: float = 60) -> None:
    """Block until a worker answers a control ping (it is consuming)."""
    if app_name == "bench._noop":
        from bench._noop import app
    else:
        from workers.app import app
    if not wait_for(lambda: bool(app.control.ping(timeout=0.5)), timeout, interval=0.1):
        raise RuntimeError(f"no {app_name} worker answered within {timeout}s")


def workers_cpu(procs: list[Celery]) -> float:
    """CPU seconds of the worker groups so far, including pool children that were recycled and reaped."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for proc in procs:
        total += cpu_seconds(proc.pids())
        try:
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[13]) + int(fields[14])) / tick  # cutime + cstime: reaped children
        except OSError:
            pass
    return total


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def redis_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def commandstats(client: redis.Redis) -> dict[str, int]:
    """Calls per command since the server started (EVALSHA counts once; the commands its script runs
    are counted too, under their own names)."""
    return {name.removeprefix("cmdstat_"): int(row["calls"]) for name, row in client.info("commandstats").items()}


def stage_seconds(client: redis.Redis) -> dict[str, dict[str, float]]:
    raw = {k.decode(): float(v) for k, v in client.hgetall(keys.task_seconds(PREFIX)).items()}
    table: dict[str, dict[str, float]] = {}
    for field, value in raw.items():
        name, _, kind = field.rpartition(":")
        table.setdefault(name.rsplit(".", 1)[-1], {})[kind] = value
    return table


def task_cpu(client: redis.Redis) -> dict[str, float]:
    """CPU seconds per task (short name) the workers spent, from their own process clocks."""
    return {k.decode().rsplit(".", 1)[-1]: float(v) for k, v in client.hgetall(keys.task_cpu_seconds(PREFIX)).items()}


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


@contextmanager
def profiled(pids: dict[str, int], folder: str | None) -> Iterator[None]:
    """py-spy record (collapsed stacks of threads holding the GIL, i.e. CPU; subprocesses included) of the given
    processes while the block runs."""
    if not folder:
        yield
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    spy = str(Path(sys.executable).parent / "py-spy")
    spies = [subprocess.Popen([spy, "record", "--pid", str(pid), "--subprocesses", "--format", "raw", "--rate", "50", "--gil",
                               "--nonblocking", "-o", str(Path(folder) / f"{name}.txt")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for name, pid in pids.items()]
    try:
        yield
    finally:
        for spy_proc in spies:
            spy_proc.send_signal(signal.SIGINT)
        for spy_proc in spies:
            spy_proc.wait(30)
