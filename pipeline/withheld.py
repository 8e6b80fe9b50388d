"""Fetch again, on a schedule, the orders held because the platform has not released the address yet.

Amazon without the PII role, TikTok before an order is ready and SHEIN before its address export all
withhold the name or street for a while; routing holds such an order ADDRESS_INCOMPLETE, and nothing
else would ever read it again unless the order changes. So each held order is fetched afresh and
routed, first after FIRST_WAIT and then at doubling intervals (capped at MAX_WAIT), every attempt on
its timeline, until the hold goes or MAX_ATTEMPTS have been made (then ops see that it gave up).

The schedule is one hash per seller (order key -> attempts and next due time), read beside the
ADDRESS_INCOMPLETE hold set; an entry whose order is no longer held is dropped on the next run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import msgspec
import orjson
import structlog

from pipeline import keys
from pipeline.model import EventKind, HoldReason, Order
from pipeline.store import OrderStore

log = structlog.get_logger()

FIRST_WAIT = timedelta(minutes=15)
MAX_WAIT = timedelta(hours=12)
MAX_ATTEMPTS = 24  # about ten days at the cap: longer than any platform withholds an address it will release
BATCH = 50  # orders re-fetched per run, the most overdue first: a run stays short inside its time limit


class Attempts(msgspec.Struct, frozen=True):
    attempts: int
    due: float  # epoch seconds


def _key(store: OrderStore, seller: str) -> str:
    return keys.address_refetch(store.prefix, seller)


def wait_after(attempts: int) -> timedelta:
    """How long to wait after `attempts` fruitless re-fetches (0: the hold is new)."""
    return min(MAX_WAIT, FIRST_WAIT * (2 ** attempts))


def due(store: OrderStore, seller: str, now: datetime) -> list[str]:
    """Held orders whose next re-fetch is due, most overdue first; schedules the newly held ones."""
    held = set(store.holds(seller, HoldReason.ADDRESS_INCOMPLETE)[HoldReason.ADDRESS_INCOMPLETE])
    known = {k.decode(): msgspec.json.decode(v, type=Attempts)
             for k, v in store.redis.hgetall(_key(store, seller)).items()}
    pipe = store.redis.pipeline(transaction=False)
    gone = [k for k in known if k not in held]
    if gone:
        pipe.hdel(_key(store, seller), *gone)
    first = (now + FIRST_WAIT).timestamp()
    for key in held - known.keys():
        pipe.hset(_key(store, seller), key, orjson.dumps({"attempts": 0, "due": first}))
    pipe.execute()
    ready = sorted((a.due, k) for k, a in known.items()
                   if k in held and a.due <= now.timestamp() and a.attempts < MAX_ATTEMPTS)
    return [k for _, k in ready[:BATCH]]


def refetch(store: OrderStore, seller: str, order_keys: list[str], now: datetime,
            fetch: Callable[[Order], None], route: Callable[[str], None]) -> dict[str, int]:
    """Fetch each order afresh (`fetch`, from the platform) and route it (`route`); record the attempt.

    Returns counts: `released` (no longer held for its address), `still_held`, `failed` (the fetch
    itself failed: the attempt still counts, so a dead order cannot be fetched in a tight loop)."""
    counts = {"released": 0, "still_held": 0, "failed": 0}
    schedule = dict(zip(order_keys, store.redis.hmget(_key(store, seller), order_keys), strict=True)) if order_keys else {}
    for key in order_keys:
        stored = store.get(seller, key)
        if stored is None or stored.order is None:
            continue
        previous = schedule[key]
        attempts = (msgspec.json.decode(previous, type=Attempts).attempts if previous else 0) + 1
        bound = log.bind(seller=seller, platform=stored.order.platform, shop=stored.order.shop_id, order_key=key)
        try:
            fetch(stored.order)
            route(key)
        except Exception as exc:  # one order's failure must not stop the others' re-fetch
            counts["failed"] += 1
            outcome = f"the fetch failed ({type(exc).__name__}); trying again later"
            bound.warning("address.refetch_failed", attempt=attempts, error=type(exc).__name__)
        else:
            after = store.get(seller, key)
            if after is None or after.hold is None or after.hold.reason is not HoldReason.ADDRESS_INCOMPLETE:
                counts["released"] += 1
                store.redis.hdel(_key(store, seller), key)
                store.append_event(seller, key, EventKind.NOTE, f"address re-fetch {attempts}: the platform "
                                                                "released the address")
                bound.info("address.released", attempt=attempts)
                continue
            counts["still_held"] += 1
            outcome = f"still held: {after.hold.detail}"
        if attempts >= MAX_ATTEMPTS:
            outcome += f"; gave up after {attempts} attempts: ask the platform or the seller for the address"
        else:
            outcome += f"; next in {wait_after(attempts)}"
        store.redis.hset(_key(store, seller), key,
                         orjson.dumps({"attempts": attempts, "due": (now + wait_after(attempts)).timestamp()}))
        store.append_event(seller, key, EventKind.NOTE, f"address re-fetch {attempts}: {outcome}")
    return counts
