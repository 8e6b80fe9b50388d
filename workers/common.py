"""What every task module shares: retry and backoff, the soft-time-limit guard, the per-task log
context and timings, and the helpers that build a task's store, ledger and warehouse clients.

Split from workers/tasks.py so each task module (ingest, route, dispatch, tracking, stock) holds only
the orchestration of its own concern.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import structlog
from billiard.pool import soft_timeout_sighandler
from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import task_postrun, task_prerun

from orderhub.runtime.redisconn import abandon_connections, get_redis
from orderhub.runtime.settings import key_prefix
from pipeline import keys
from pipeline.errors import RetryableError
from pipeline.model import HoldReason
from pipeline.stock import StockLedger
from pipeline.store import OrderStore
from workers.app import Timings
from workers.clients import warehouse_clients
from workers.config_cache import seller_config

log = structlog.get_logger()

MAX_RETRIES = 8

RETRYABLE = (RetryableError, SoftTimeLimitExceeded)
"""Retried with backoff. The soft time limit is here because a slow platform (a read timeout and
its quick retries) can outlast it: Celery then fails the task and acks its message, and the work
(a submission, a tracking push) would be dropped without a trace."""


def _hint(exc: BaseException) -> float | None:
    return getattr(exc, "retry_after", None)


_started: dict[str, float] = {}
_cpu_started: dict[str, float] = {}


def _soft_limit_reached(signum: int, frame: Any) -> None:
    """The pool's soft time limit handler, and first: this process's Redis connections reconnect,
    since the limit may have landed between a command and its reply (see abandon_connections)."""
    abandon_connections()
    raise SoftTimeLimitExceeded()


def _guard_soft_limit() -> None:
    """Put _soft_limit_reached in place of the handler the pool process installs (after every
    init hook, so it is swapped on a task's start). Only the main thread may set signal handlers:
    thread pools (the test worker) keep theirs."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGUSR1"):
        return
    if signal.getsignal(signal.SIGUSR1) is soft_timeout_sighandler:
        signal.signal(signal.SIGUSR1, _soft_limit_reached)


PROFILE_DIR = "ORDERHUB_PROFILE_DIR"
"""When set (bench/pipeline.py --profile), each pool process profiles its tasks with cProfile and keeps the
cumulative stats in that folder, one file per process and task name: the CPU split per task."""
_profiles: dict[str, Any] = {}


def _profile(name: str, start: bool) -> None:
    folder = os.environ.get(PROFILE_DIR)
    if not folder:
        return
    import cProfile

    prof = _profiles.get(name) or _profiles.setdefault(name, cProfile.Profile(time.process_time))
    if start:
        prof.enable()
        return
    prof.disable()
    prof.dump_stats(os.path.join(folder, f"{name.rsplit('.', 1)[-1]}.{os.getpid()}.prof"))


@task_prerun.connect
def _bind_task_context(task_id: str | None = None, task: Task | None = None, args: Any = None, **_: Any) -> None:
    _profile(getattr(task, "name", ""), True)
    _guard_soft_limit()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(task_id=task_id, task=getattr(task, "name", None))
    if task_id:
        _started[task_id] = time.perf_counter()
        _cpu_started[task_id] = time.process_time()


@task_postrun.connect
def _clear_task_context(task_id: str | None = None, task: Task | None = None, **_: Any) -> None:
    structlog.contextvars.clear_contextvars()
    _profile(getattr(task, "name", ""), False)
    started = _started.pop(task_id or "", None)
    cpu_started = _cpu_started.pop(task_id or "", None)
    if started is not None and task is not None:  # durations for `orderhub metrics serve`
        durations = keys.task_seconds(key_prefix())
        sum_field, count_field = keys.task_seconds_fields(task.name)
        pipe = get_redis().pipeline(transaction=False)
        pipe.hincrbyfloat(durations, sum_field, time.perf_counter() - started)
        pipe.hincrby(durations, count_field, 1)
        if cpu_started is not None:  # and CPU, for the benchmark's split per task
            pipe.hincrbyfloat(keys.task_cpu_seconds(key_prefix()), task.name, time.process_time() - cpu_started)
        pipe.execute()


def backoff(retries: int, retry_after: float | None = None) -> float:
    """Full-jitter exponential backoff, never shorter than the platform's own hint, capped."""
    cap = Timings().max_countdown  # below the visibility timeout, see workers/app.py
    ceiling = min(cap, 5 * 2**retries)
    return min(cap, max(retry_after or 0.0, random.uniform(ceiling / 2, ceiling)))


def _store() -> OrderStore:
    return OrderStore(get_redis(), key_prefix())


def _ledger() -> StockLedger:
    return StockLedger(get_redis(), key_prefix())


def _warehouses(seller: str):
    return warehouse_clients(seller_config(seller), get_redis(), key_prefix())


def _with_retry(task: Task, seller: str, key: str, action: Callable[[], Any]) -> Any:
    """Run one order's warehouse action and return what it returns; a long outage is retried, and when
    retries run out the order is held RETRIES_EXHAUSTED with the error (visible in `orderhub holds
    list`) and None is returned."""
    try:
        return action()
    except RETRYABLE as exc:
        if task.request.retries >= task.max_retries:
            _store().hold(seller, key, HoldReason.RETRIES_EXHAUSTED, str(exc) or type(exc).__name__)
            return None
        raise task.retry(exc=exc, countdown=backoff(task.request.retries, _hint(exc))) from exc
