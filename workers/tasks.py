"""Celery tasks: thin shells that take ids, re-read config and state, and call pipeline functions.

Retries live here for long outages (a platform down for minutes); quick retries live in the HTTP
client. An authentication failure stops that shop's sync and is reported once, not retried.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import structlog
from celery import Task
from celery.exceptions import Retry, SoftTimeLimitExceeded
from celery.signals import task_postrun, task_prerun

from orderhub.runtime.redisconn import abandon_connections, get_redis
from orderhub.runtime.settings import key_prefix
from pipeline import keys
from pipeline.errors import AuthenticationFailed, NeedsReview, RetryableError
from pipeline.identity import order_key, parse_order_key
from pipeline.locks import Lease, live_lease
from pipeline.model import EventKind, HoldReason
from pipeline.ports import AcknowledgingClient
from pipeline.store import OrderStore
from pipeline.sync import fetch_and_store, sync_orders
from workers.app import Timings, app
from workers.config_cache import seller_config

log = structlog.get_logger()

MAX_RETRIES = 8
SYNC_SLICE = timedelta(days=1)
"""The longest slice a sync reads before moving its cursor: a run cut off by its time limit resumes
there, and slices shrink while runs keep being cut off (pipeline/windows.py SliceHint). Without it a
window too big for one task (a week's first sync, a backlog after an outage) was re-read forever."""

SHIPMENT_SLICE = timedelta(hours=1)
"""The longest slice of completion time a shipment poll reads before moving its cursor (for
warehouses that can bound the read); shorter after polls cut off by their time limit."""

RETRYABLE = (RetryableError, SoftTimeLimitExceeded)
"""Retried with backoff. The soft time limit is here because a slow platform (a read timeout and
its quick retries) can outlast it: Celery then fails the task and acks its message, and the work
(a submission, a tracking push) would be dropped without a trace."""


def _hint(exc: BaseException) -> float | None:
    return getattr(exc, "retry_after", None)


_started: dict[str, float] = {}


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
    from billiard.pool import soft_timeout_sighandler

    if signal.getsignal(signal.SIGUSR1) is soft_timeout_sighandler:
        signal.signal(signal.SIGUSR1, _soft_limit_reached)


@task_prerun.connect
def _bind_task_context(task_id: str | None = None, task: Task | None = None, args: Any = None, **_: Any) -> None:
    _guard_soft_limit()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(task_id=task_id, task=getattr(task, "name", None))
    if task_id:
        _started[task_id] = time.perf_counter()


@task_postrun.connect
def _clear_task_context(task_id: str | None = None, task: Task | None = None, **_: Any) -> None:
    structlog.contextvars.clear_contextvars()
    started = _started.pop(task_id or "", None)
    if started is not None and task is not None:  # durations for `orderhub metrics serve`
        durations = keys.task_seconds(key_prefix())
        sum_field, count_field = keys.task_seconds_fields(task.name)
        pipe = get_redis().pipeline(transaction=False)
        pipe.hincrbyfloat(durations, sum_field, time.perf_counter() - started)
        pipe.hincrby(durations, count_field, 1)
        pipe.execute()


def backoff(retries: int, retry_after: float | None = None) -> float:
    """Full-jitter exponential backoff, never shorter than the platform's own hint, capped."""
    cap = Timings().max_countdown  # below the visibility timeout, see workers/app.py
    ceiling = min(cap, 5 * 2**retries)
    return min(cap, max(retry_after or 0.0, random.uniform(ceiling / 2, ceiling)))


def _store() -> OrderStore:
    return OrderStore(get_redis(), key_prefix())


def _auth_flag(seller: str, shop_id: str) -> str:
    return keys.auth_failed(key_prefix(), seller, shop_id)


ROUTE_BATCH = 200
STOCK_QUEUED_SECONDS = 60


def _route_in_batches(seller: str, keys: list[str]) -> None:
    """One routing task per ROUTE_BATCH orders: a task short enough to finish well inside its time
    limit, long enough that Celery's per-task cost stays small beside the work."""
    for start in range(0, len(keys), ROUTE_BATCH):
        route_orders.apply_async((seller, keys[start:start + ROUTE_BATCH]), queue="route")


def _run_sync(task: Task, seller: str, shop_id: str, **sync_kwargs: Any) -> dict[str, Any]:
    from workers.clients import platform_client

    client_redis = get_redis()
    structlog.contextvars.bind_contextvars(seller=seller, shop=shop_id)
    if client_redis.exists(_auth_flag(seller, shop_id)):
        return {"skipped": "authentication failed earlier; fix credentials and run `orderhub sync now`"}
    cfg = seller_config(seller)
    shop = cfg.shop(shop_id)
    if not shop.enabled:
        return {"skipped": "shop disabled"}
    with live_lease(client_redis, keys.sync_lock(key_prefix(), seller, shop_id)) as held:
        if not held:
            return {"skipped": "another sync of this shop is running"}
        def route(keys: list[str]) -> None:  # each slice routed before the cursor passes it
            _route_in_batches(seller, keys)

        try:
            connector, client, ref = platform_client(cfg, shop, client_redis, key_prefix())
            report = sync_orders(_store(), connector, client, ref, slice_length=SYNC_SLICE, on_slice=route,
                                 **sync_kwargs)
        except AuthenticationFailed as exc:
            client_redis.set(_auth_flag(seller, shop_id), exc.detail)
            log.error("shop.auth_failed", error=str(exc))
            return {"auth_failed": True}
        except RETRYABLE as exc:
            raise task.retry(exc=exc, countdown=backoff(task.request.retries, _hint(exc))) from exc
    return {"seen": report.seen, "results": report.results, "until": report.until.isoformat()}


@app.task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def sync_shop(self: Task, seller: str, shop_id: str) -> dict[str, Any]:
    """Incremental sync of one shop; one at a time per shop."""
    return _run_sync(self, seller, shop_id)


@app.task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def reconcile_shop(self: Task, seller: str, shop_id: str, days: int = 3) -> dict[str, Any]:
    """Re-read a wide window and repair anything an incremental sync missed; the cursor stays put."""
    from pipeline.model import utc_now

    return _run_sync(self, seller, shop_id, since=utc_now() - timedelta(days=days), move_cursor=False,
                     reuse_rows=False)


@app.task(acks_late=True)
def resume_stalled(seller: str, quiet_seconds: float) -> int:
    """Route again the orders whose routing stalled with no message left to finish it (routing and
    submission are idempotent, so one still on its way is merely routed twice)."""
    from pipeline.model import utc_now

    structlog.contextvars.bind_contextvars(seller=seller)
    pace = keys.resume_resting(key_prefix(), seller)
    if get_redis().exists(pace):
        return 0
    started = time.monotonic()
    platforms = [shop.platform for shop in seller_config(seller).shops]
    stalled = _store().stalled(seller, utc_now() - timedelta(seconds=quiet_seconds), platforms)
    _route_in_batches(seller, stalled)
    # A sweep reads every open order: however often beat asks, it rests ten times as long as it took.
    get_redis().set(pace, 1, px=max(1, int((time.monotonic() - started) * 10_000)))
    if stalled:
        log.warning("orders.resumed", count=len(stalled))
    return len(stalled)


@app.task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def fetch_order(self: Task, seller: str, shop_id: str, external_id: str) -> str:
    """Fetch one order now (a webhook said it changed); polling stays the safety net."""
    from workers.clients import platform_client

    structlog.contextvars.bind_contextvars(seller=seller, shop=shop_id)
    cfg = seller_config(seller)
    try:
        connector, client, ref = platform_client(cfg, cfg.shop(shop_id), get_redis(), key_prefix())
        result = fetch_and_store(_store(), connector, client, ref, external_id)
        route_orders.apply_async((seller, [order_key(ref.platform, ref.shop_id, external_id)]), queue="route")
        return result.value
    except RETRYABLE as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries, _hint(exc))) from exc


@app.task(acks_late=True)
def refetch_withheld(seller: str) -> dict[str, int]:
    """Fetch again the orders held for an address the platform has not released yet (pipeline/withheld.py)."""
    from pipeline import withheld
    from pipeline.model import utc_now
    from pipeline.release import Outcome, route_order
    from workers.clients import platform_client

    structlog.contextvars.bind_contextvars(seller=seller)
    cfg, store, ledger, now = seller_config(seller), _store(), _ledger(), utc_now()
    keys = withheld.due(store, seller, now)
    if not keys:
        return {}
    clients: dict[str, Any] = {}
    routed: list[str] = []

    def fetch(order) -> None:
        if order.shop_id not in clients:
            clients[order.shop_id] = platform_client(cfg, cfg.shop(order.shop_id), get_redis(), key_prefix())
        connector, client, ref = clients[order.shop_id]
        fetch_and_store(store, connector, client, ref, order.external_id)

    def route(key: str) -> None:
        if route_order(store, ledger, cfg, key).outcome is Outcome.ROUTED:
            routed.append(key)

    counts = withheld.refetch(store, seller, keys, now, fetch, route)
    if routed:
        submit_orders.apply_async((seller, routed), queue="dispatch")
    log.info("address.refetched", **counts)
    return counts


# ---------------------------------------------------------------------------------------------
# Route, dispatch, shipments, tracking: each a batch of ids, each re-reading state.


def _ledger():
    from pipeline.stock import StockLedger

    return StockLedger(get_redis(), key_prefix())


def _warehouses(seller: str):
    from workers.clients import warehouse_clients

    return warehouse_clients(seller_config(seller), get_redis(), key_prefix())


@app.task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def route_orders(self: Task, seller: str, keys: list[str]) -> dict[str, int]:
    """Route a batch of changed orders; routed ones go to dispatch, cancelled ones to cancellation."""
    from pipeline.release import Outcome, route_order
    from pipeline.submissions import submitted_among

    structlog.contextvars.bind_contextvars(seller=seller)
    cfg, store, ledger = seller_config(seller), _store(), _ledger()
    outcomes: dict[str, int] = {}
    to_submit, to_cancel, reserved, finished = [], [], set(), []
    for key in keys:
        result = route_order(store, ledger, cfg, key)
        outcomes[result.outcome.value] = outcomes.get(result.outcome.value, 0) + 1
        if result.outcome in (Outcome.ROUTED, Outcome.ALREADY_ROUTED):
            to_submit.append(key)
            reserved.update(sku for allocation in result.allocations for sku, _ in allocation.lines)
        elif result.outcome is Outcome.CANCELLED:
            to_cancel.append(key)
        elif result.outcome is Outcome.NOTHING_TO_SHIP:
            finished.append(key)
    # Shipped by now, yet at a warehouse: dispatch still compares the ship-to with what that warehouse has.
    to_submit += submitted_among(store, seller, finished) if finished else []
    if to_submit:
        submit_orders.apply_async((seller, to_submit), queue="dispatch")
        if reserved:  # the last units may just have gone: those listings are pushed now, not at the schedule
            _enqueue_stock_sync(seller, sorted(reserved), urgent=True)
    if to_cancel:
        cancel_orders.apply_async((seller, to_cancel), queue="dispatch")
    return outcomes


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


@app.task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def submit_orders(self: Task, seller: str, keys: list[str]) -> int:
    from pipeline.dispatch import hold_unsubmitted, submit_order

    structlog.contextvars.bind_contextvars(seller=seller)
    cfg, store, ledger, clients = seller_config(seller), _store(), _ledger(), _warehouses(seller)
    to_acknowledge = []
    for key in keys:
        structlog.contextvars.bind_contextvars(order_key=key)
        try:
            done = _with_retry(self, seller, key, lambda k=key: submit_order(store, ledger, cfg, k, clients))
        except Retry:
            raise
        except Exception as exc:  # a bug on one order must not strand the rest of the batch
            log.exception("order.submit_failed")
            hold_unsubmitted(store, ledger, seller, key, HoldReason.INTERNAL_ERROR,
                             f"submitting failed: {type(exc).__name__}")
            continue
        if done and _platform_acknowledges(key):
            to_acknowledge.append(key)
    if to_acknowledge:  # one task for the batch, not one per order
        acknowledge_orders.apply_async((seller, to_acknowledge), queue="dispatch")
    return len(keys)


def _platform_acknowledges(key: str) -> bool:
    from connectors.registry import get_connector

    return get_connector(parse_order_key(key).platform).capabilities.acknowledges


@app.task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def acknowledge_orders(self: Task, seller: str, keys: list[str]) -> int:
    """Acknowledge a submitted batch; a retry skips the orders already acknowledged (their marker)."""
    return sum(_acknowledge(self, seller, key) for key in keys)


@app.task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def acknowledge_order(self: Task, seller: str, key: str) -> bool:
    """One order (messages queued before the batch task existed still name this one)."""
    return _acknowledge(self, seller, key)


def _acknowledge(self: Task, seller: str, key: str) -> bool:
    """Tell the platform the order is taken on (only platforms that ask for it); once per order."""
    from workers.clients import platform_client

    store, client_redis = _store(), get_redis()
    marker = keys.acknowledged(key_prefix(), seller, key)
    stored = store.get(seller, key)
    if client_redis.exists(marker) or stored is None or stored.order is None:
        return False
    cfg = seller_config(seller)
    structlog.contextvars.bind_contextvars(seller=seller, order_key=key)

    def ack() -> None:
        _, platform, _ = platform_client(cfg, cfg.shop(stored.order.shop_id), get_redis(), key_prefix())
        client: AcknowledgingClient = platform  # only orders of connectors that declare `acknowledges` come here
        try:
            outcome = client.acknowledge(stored.order.external_id)
        except NeedsReview as exc:
            store.append_event(seller, key, EventKind.NOTE, f"platform refused the acknowledgement: {exc}")
            return
        if outcome.accepted:
            client_redis.set(marker, 1)
            store.append_event(seller, key, EventKind.NOTE, "acknowledged to the platform")

    _with_retry(self, seller, key, ack)
    return True


@app.task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def cancel_orders(self: Task, seller: str, keys: list[str]) -> int:
    from pipeline.dispatch import cancel_order

    cfg, store, ledger, clients = seller_config(seller), _store(), _ledger(), _warehouses(seller)
    for key in keys:
        _with_retry(self, seller, key, lambda k=key: cancel_order(store, ledger, cfg, k, clients))
    return len(keys)


@app.task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def pull_inventory(self: Task, seller: str, warehouse: str) -> int:
    """Warehouse stock into the ledger (a snapshot; see pipeline/stock.py for why nothing counts twice)."""
    from pipeline.model import utc_now

    try:
        as_of = utc_now()
        levels = _warehouses(seller)[warehouse].inventory()
    except RETRYABLE as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries, _hint(exc))) from exc
    if _ledger().apply_snapshot(seller, warehouse, levels, as_of, until=utc_now()):
        _enqueue_stock_sync(seller)  # new numbers from the warehouse: tell the platforms
    return len(levels)


def _enqueue_stock_sync(seller: str, skus: list[str] | None = None, urgent: bool = False) -> None:
    for shop in seller_config(seller).shops:
        if shop.enabled:
            _request_stock_push(seller, shop.shop_id, skus if urgent else None)


def _stock_keys(seller: str, shop_id: str) -> keys.StockRequests:
    """(a full push is wanted, the SKUs an urgent push wants, a push task is queued and not started)."""
    return keys.stock_requests(key_prefix(), seller, shop_id)


def _note_stock_request(seller: str, shop_id: str, skus: list[str] | None) -> None:
    full_key, skus_key, _ = _stock_keys(seller, shop_id)
    if skus:
        get_redis().sadd(skus_key, *skus)
    else:
        get_redis().set(full_key, 1, ex=3600)


def _request_stock_push(seller: str, shop_id: str, skus: list[str] | None = None) -> None:
    """Note the request, and queue a push task only if none is queued already: that one takes it on
    when it starts. Every routing batch asks for a push of every shop; one task each was thousands of
    queued messages under load (the chaos run), all but the first with nothing left to do.

    The queued mark expires, so a message lost on its way (kombu's pop-before-unacked window) stops
    holding new ones back after STOCK_QUEUED_SECONDS; beat's periodic full push covers the gap."""
    _note_stock_request(seller, shop_id, skus)
    _queue_stock_push(seller, shop_id)


def _queue_stock_push(seller: str, shop_id: str) -> None:
    if get_redis().set(_stock_keys(seller, shop_id)[2], 1, nx=True, ex=STOCK_QUEUED_SECONDS):
        sync_stock.apply_async((seller, shop_id, None, False, True), queue="stock")


@app.task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def sync_stock(self: Task, seller: str, shop_id: str, skus: list[str] | None = None, urgent: bool = False,
               noted: bool = False) -> dict:
    """Push one shop's changed stock numbers; one run per shop at a time, so pushes never cross.

    A request is noted in Redis (a full push, or the SKUs of an urgent one) by whoever asks, or by the
    task itself for beat's periodic push; the task then takes the shop's lease, and one that finds a
    push running just returns. The holder goes round again for every
    request noted meanwhile and looks once more after letting go, so a newer number is never dropped
    and no task sits in a countdown waiting for the lease."""
    from pipeline.stock_sync import sync_shop_stock
    from workers.clients import platform_client

    client_redis = get_redis()
    structlog.contextvars.bind_contextvars(seller=seller, shop=shop_id)
    cfg = seller_config(seller)
    shop = cfg.shop(shop_id)
    full_key, skus_key, queued_key = _stock_keys(seller, shop_id)
    if not noted:  # beat's periodic push (and messages queued before requests were noted by the sender)
        _note_stock_request(seller, shop_id, skus if urgent else None)
    client_redis.delete(queued_key)  # from here on a new request needs a new task
    pushed = 0
    held = Lease(client_redis, keys.stock_lock(key_prefix(), seller, shop_id), Timings().task_time_limit)
    if not held.acquire():
        return {"deferred": "a push of this shop is running; it takes this request on"}
    deadline = time.monotonic() + Timings().task_time_limit / 2  # then hand over to a fresh task
    try:
        connector, platform, _ = platform_client(cfg, shop, client_redis, key_prefix())
        while time.monotonic() < deadline:
            pipe = client_redis.pipeline()
            pipe.getdel(full_key).smembers(skus_key).delete(skus_key)
            full, pending, _ = pipe.execute()
            if not full and not pending:
                break
            only = None if full else {sku.decode() for sku in pending}
            report = sync_shop_stock(cfg, shop, _ledger(), client_redis, key_prefix(), connector, platform,
                                     only=only, urgent=not full, still_mine=held.extend)
            pushed += report.pushed
    except RETRYABLE as exc:
        client_redis.set(full_key, 1, ex=3600)  # whatever was taken on is pushed by the retry
        raise self.retry(exc=exc, countdown=backoff(self.request.retries, _hint(exc))) from exc
    finally:
        held.release()
    if client_redis.exists(full_key) or client_redis.scard(skus_key):  # noted meanwhile, or left over
        _queue_stock_push(seller, shop_id)
    return {"pushed": pushed}


@app.task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def check_stock_drift(self: Task, seller: str, shop_id: str) -> int:
    """Compare what the platform shows with what we pushed; differences are pushed again at once."""
    from pipeline.stock_sync import check_drift
    from workers.clients import platform_client

    cfg = seller_config(seller)
    shop = cfg.shop(shop_id)
    try:
        connector, platform, _ = platform_client(cfg, shop, get_redis(), key_prefix())
        drifted = check_drift(cfg, shop, get_redis(), key_prefix(), connector, platform)
    except RETRYABLE as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries, _hint(exc))) from exc
    if drifted:
        _request_stock_push(seller, shop_id)  # the drifted ones count as changed
    return len(drifted)


@app.task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def poll_shipments(self: Task, seller: str, warehouse: str) -> int:
    """Shipped outbound orders since the warehouse cursor; each new one gets its tracking pushed."""
    from pipeline.fulfilment import overdue_tracking
    from pipeline.fulfilment import poll_shipments as record_polled

    def push(keys: list[str]) -> None:  # each slice's tracking goes out before the cursor passes it
        for key in keys:
            push_tracking.apply_async((seller, key, warehouse), queue="tracking")

    store = _store()
    push(overdue_tracking(store, seller, warehouse))  # pushes lost with a killed worker
    try:
        keys = record_polled(store, _ledger(), seller, warehouse, _warehouses(seller)[warehouse],
                             slice_length=SHIPMENT_SLICE, on_slice=push)
    except RETRYABLE as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries, _hint(exc))) from exc
    if keys:  # units left the building: re-read the warehouse now, so stock numbers follow the shipments
        pull_inventory.apply_async((seller, warehouse), queue="stock")
    return len(keys)


@app.task(bind=True, max_retries=MAX_RETRIES, acks_late=True)
def push_tracking(self: Task, seller: str, key: str, warehouse: str) -> bool:
    from pipeline.fulfilment import (
        mark_tracking_pushed,
        mark_tracking_refused,
        recorded_shipments,
        tracking_push,
        tracking_was_pushed,
    )
    from workers.clients import platform_client

    store = _store()
    if tracking_was_pushed(store, seller, key, warehouse):
        return False
    stored = store.get(seller, key)
    shipment = recorded_shipments(store, seller, key).get(warehouse)
    if stored is None or stored.order is None or shipment is None:
        return False
    cfg = seller_config(seller)
    structlog.contextvars.bind_contextvars(seller=seller, order_key=key)

    def push() -> None:
        with live_lease(get_redis(), keys.tracking_lock(key_prefix(), seller, key, warehouse)) as mine:
            # One push of a shipment at a time: an overdue one offered again may meet the first still
            # retrying. The one that gives way is offered again if the first never settles it.
            if mine and not tracking_was_pushed(store, seller, key, warehouse):
                send()

    def send() -> None:
        _, client, _ = platform_client(cfg, cfg.shop(stored.order.shop_id), get_redis(), key_prefix())
        try:
            outcome = client.push_tracking(tracking_push(stored.order, shipment))
        except NeedsReview as exc:  # the order shipped; the platform refused the tracking: ops must look
            mark_tracking_refused(store, seller, key, warehouse, str(exc))
            log.error("tracking.refused", error=str(exc))
            return
        if outcome.accepted:
            mark_tracking_pushed(store, seller, key, warehouse)
        else:
            mark_tracking_refused(store, seller, key, warehouse, outcome.message or "refused")
            log.error("tracking.refused", error=outcome.message)

    _with_retry(self, seller, key, push)
    return True
