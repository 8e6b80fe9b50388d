"""Routing: a batch of changed orders is routed, and each outcome sent on to the task that acts on
it (dispatch for routed orders, cancellation for cancelled ones, an urgent stock push for the SKUs
whose last units may just have been reserved).
"""

from __future__ import annotations

import structlog
from celery import Task

from pipeline.address_changes import owed_dispatch
from pipeline.release import Outcome, Result
from pipeline.route_batch import route_batch
from workers.app import app
from workers.common import MAX_RETRIES, _ledger, _store
from workers.config_cache import seller_config
from workers.dispatch import cancel_orders, submit_orders
from workers.stock import _enqueue_stock_sync

ROUTE_BATCH = 200


def _route_in_batches(seller: str, keys: list[str]) -> None:
    """One routing task per ROUTE_BATCH orders: a task short enough to finish well inside its time
    limit, long enough that Celery's per-task cost stays small beside the work."""
    for start in range(0, len(keys), ROUTE_BATCH):
        route_orders.apply_async((seller, keys[start:start + ROUTE_BATCH]), queue="route")


@app.task(name="workers.tasks.route_orders", bind=True, max_retries=MAX_RETRIES, acks_late=True)
def route_orders(self: Task, seller: str, keys: list[str]) -> dict[str, int]:
    """Route a batch of changed orders (pipeline/route_batch.py: a few round trips for the whole batch);
    routed ones go to dispatch, cancelled ones to cancellation."""
    structlog.contextvars.bind_contextvars(seller=seller)
    cfg, store, ledger = seller_config(seller), _store(), _ledger()
    outcomes: dict[str, int] = {}
    to_submit, to_cancel, reserved, seen_before = [], [], set(), []
    for key, result in route_batch(store, ledger, cfg, keys).items():
        outcomes[result.outcome.value] = outcomes.get(result.outcome.value, 0) + 1
        if result.outcome is Outcome.ROUTED:
            to_submit.append(key)
            reserved.update(reserved_skus(result))
        elif result.outcome is Outcome.ALREADY_ROUTED:
            seen_before.append((key, result.ship_to, [allocation.warehouse for allocation in result.allocations]))
        elif result.outcome is Outcome.CANCELLED:
            to_cancel.append(key)
        elif result.outcome is Outcome.NOTHING_TO_SHIP:  # shipped by now, yet maybe moved since a warehouse got it
            seen_before.append((key, result.ship_to, None))
    to_submit += owed_dispatch(store, seller, seen_before) if seen_before else []
    if to_submit:
        submit_orders.apply_async((seller, to_submit), queue="dispatch")
        push_reserved(seller, reserved)
    if to_cancel:
        cancel_orders.apply_async((seller, to_cancel), queue="dispatch")
    return outcomes


def reserved_skus(result: Result) -> set[str]:
    """The SKUs a routing result reserved stock of."""
    return {sku for allocation in result.allocations for sku, _ in allocation.lines}


def push_reserved(seller: str, skus: set[str]) -> None:
    """The last units of these SKUs may just have gone: their listings are pushed now, not at the schedule."""
    if skus:
        _enqueue_stock_sync(seller, sorted(skus), urgent=True)
