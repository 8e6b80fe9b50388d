"""Per-order calls of one page, a few at a time.

Completing a page means one or two calls per order (TEMU shipping and amount, SHEIN and AliExpress
addresses). Made one after another, a page costs the sum of their round trips, and one timed-out
call stalls the whole sync behind it; the shared rate limiter still meters every call, so a few in
flight at once only fill the platform's budget instead of leaving it idle.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

IN_FLIGHT = 8


def each(call: Callable[[T], R], items: Sequence[T], in_flight: int = IN_FLIGHT) -> list[R]:
    """`[call(item) for item in items]`, up to `in_flight` at once, in order; the first error is
    raised and the calls not yet started are dropped (a task past its time limit does not wait)."""
    if len(items) <= 1 or in_flight <= 1:
        return [call(item) for item in items]
    pool = ThreadPoolExecutor(max_workers=min(in_flight, len(items)), thread_name_prefix="fanout")
    try:
        # Each call runs in a copy of this context, so its log lines keep the task's seller, shop, task id.
        futures = [pool.submit(contextvars.copy_context().run, call, item) for item in items]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
