"""Stock: warehouse inventory pulled into the ledger, stock numbers pushed to the platforms, and the
platforms' own numbers checked for drift.

Who asks for a push, and how a thousand asks share one queued task, is pipeline/stock_requests.py;
this module only queues the tasks it says to and runs them, one push per shop at a time.
"""

from __future__ import annotations

import time

import structlog
from celery import Task

from orderhub.runtime.redisconn import get_redis
from orderhub.runtime.settings import key_prefix
from pipeline import keys, stock_requests
from pipeline.locks import Lease
from pipeline.model import utc_now
from pipeline.stock_sync import check_drift, sync_shop_stock
from workers.app import Timings, app
from workers.clients import platform_client
from workers.common import MAX_RETRIES, RETRYABLE, _hint, _ledger, _warehouses, backoff
from workers.config_cache import seller_config


@app.task(name="workers.tasks.pull_inventory", bind=True, max_retries=MAX_RETRIES, acks_late=True)
def pull_inventory(self: Task, seller: str, warehouse: str) -> int:
    """Warehouse stock into the ledger (a snapshot; see pipeline/stock.py for why nothing counts twice)."""
    try:
        as_of = utc_now()
        levels = _warehouses(seller)[warehouse].inventory()
    except RETRYABLE as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries, _hint(exc))) from exc
    if _ledger().apply_snapshot(seller, warehouse, levels, as_of, until=utc_now()):
        _enqueue_stock_sync(seller)  # new numbers from the warehouse: tell the platforms
    return len(levels)


def _queue_push(seller: str, shop_id: str) -> None:
    sync_stock.apply_async((seller, shop_id, None, False, True), queue="stock")


def _enqueue_stock_sync(seller: str, skus: list[str] | None = None, urgent: bool = False) -> None:
    """Ask every enabled shop of the seller for a push; a task is queued only where none is yet."""
    for shop_id in stock_requests.request_for_seller(get_redis(), key_prefix(), seller_config(seller), skus, urgent):
        _queue_push(seller, shop_id)


def _request_stock_push(seller: str, shop_id: str, skus: list[str] | None = None) -> None:
    if stock_requests.request(get_redis(), key_prefix(), seller, shop_id, skus):
        _queue_push(seller, shop_id)


@app.task(name="workers.tasks.sync_stock", bind=True, max_retries=MAX_RETRIES, acks_late=True)
def sync_stock(self: Task, seller: str, shop_id: str, skus: list[str] | None = None, urgent: bool = False,
               noted: bool = False) -> dict:
    """Push one shop's changed stock numbers; one run per shop at a time, so pushes never cross.

    A request is noted in Redis (a full push, or the SKUs of an urgent one) by whoever asks, or by the
    task itself for beat's periodic push; the task then takes the shop's lease, and one that finds a
    push running just returns. The holder goes round again for every
    request noted meanwhile and looks once more after letting go, so a newer number is never dropped
    and no task sits in a countdown waiting for the lease."""
    client_redis, prefix = get_redis(), key_prefix()
    structlog.contextvars.bind_contextvars(seller=seller, shop=shop_id)
    cfg = seller_config(seller)
    shop = cfg.shop(shop_id)
    if not noted:  # beat's periodic push (and messages queued before requests were noted by the sender)
        stock_requests.note(client_redis, prefix, seller, shop_id, skus if urgent else None)
    stock_requests.started(client_redis, prefix, seller, shop_id)  # from here on a new request needs a new task
    pushed = 0
    held = Lease(client_redis, keys.stock_lock(prefix, seller, shop_id), Timings().task_time_limit)
    if not held.acquire():
        return {"deferred": "a push of this shop is running; it takes this request on"}
    deadline = time.monotonic() + Timings().task_time_limit / 2  # then hand over to a fresh task
    try:
        connector, platform, _ = platform_client(cfg, shop, client_redis, prefix)
        while time.monotonic() < deadline:
            taken = stock_requests.take(client_redis, prefix, seller, shop_id)
            if taken is None:
                break
            full, pending = taken
            only = None if full else pending
            report = sync_shop_stock(cfg, shop, _ledger(), client_redis, prefix, connector, platform,
                                     only=only, urgent=not full, still_mine=held.extend)
            pushed += report.pushed
    except RETRYABLE as exc:
        stock_requests.keep_full(client_redis, prefix, seller, shop_id)  # whatever was taken on is pushed by the retry
        raise self.retry(exc=exc, countdown=backoff(self.request.retries, _hint(exc))) from exc
    finally:
        held.release()
    if (stock_requests.pending(client_redis, prefix, seller, shop_id)  # noted meanwhile, or left over
            and stock_requests.claim_queued(client_redis, prefix, seller, shop_id)):
        _queue_push(seller, shop_id)
    return {"pushed": pushed}


@app.task(name="workers.tasks.check_stock_drift", bind=True, max_retries=MAX_RETRIES, acks_late=True)
def check_stock_drift(self: Task, seller: str, shop_id: str) -> int:
    """Compare what the platform shows with what we pushed; differences are pushed again at once."""
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
