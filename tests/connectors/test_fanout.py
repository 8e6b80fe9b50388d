from __future__ import annotations

import threading
import time

import pytest
import structlog

from connectors.fanout import each


def test_results_keep_the_order_of_the_items_while_calls_overlap():
    started, lock, peak, running = [], threading.Lock(), [0], [0]

    def call(n: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.02 * (5 - n % 5))  # later items finish first
        with lock:
            running[0] -= 1
        started.append(n)
        return n * n

    assert each(call, list(range(10)), in_flight=4) == [n * n for n in range(10)]
    assert peak[0] == 4


def test_the_first_error_is_raised_and_calls_not_started_are_dropped():
    calls = []

    def call(n: int) -> int:
        calls.append(n)
        if n == 0:
            raise TimeoutError("held past the read timeout")
        time.sleep(0.05)
        return n

    with pytest.raises(TimeoutError):
        each(call, list(range(40)), in_flight=2)
    time.sleep(0.2)
    assert len(calls) < 40


def test_each_call_logs_with_the_task_context():
    structlog.contextvars.bind_contextvars(shop="acme-temu-us")
    try:
        seen = each(lambda _: structlog.contextvars.get_contextvars().get("shop"), [1, 2, 3])
    finally:
        structlog.contextvars.clear_contextvars()
    assert seen == ["acme-temu-us"] * 3
