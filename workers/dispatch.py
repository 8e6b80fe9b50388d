"""Dispatch: routed orders submitted to their warehouses, cancelled ones withdrawn from them, and
submitted ones acknowledged to the platforms that ask for it. One order failing never strands the
rest of its batch.
"""

from __future__ import annotations

import structlog
from celery import Task
from celery.exceptions import Retry

from connectors.registry import get_connector
from orderhub.runtime.redisconn import get_redis
from orderhub.runtime.settings import key_prefix
from pipeline import dispatch as pipeline_dispatch
from pipeline import keys
from pipeline.errors import NeedsReview
from pipeline.identity import parse_order_key
from pipeline.model import EventKind, HoldReason
from pipeline.ports import AcknowledgingClient
from workers.app import app
from workers.clients import platform_client
from workers.common import MAX_RETRIES, _ledger, _store, _warehouses, _with_retry, log
from workers.config_cache import seller_config


@app.task(name="workers.tasks.submit_orders", bind=True, max_retries=MAX_RETRIES, acks_late=True)
def submit_orders(self: Task, seller: str, keys: list[str]) -> int:
    structlog.contextvars.bind_contextvars(seller=seller)
    cfg, store, ledger, clients = seller_config(seller), _store(), _ledger(), _warehouses(seller)
    to_acknowledge = []
    for key in keys:
        structlog.contextvars.bind_contextvars(order_key=key)
        try:
            done = _with_retry(self, seller, key,
                               lambda k=key: pipeline_dispatch.submit_order(store, ledger, cfg, k, clients))
        except Retry:
            raise
        except Exception as exc:  # a bug on one order must not strand the rest of the batch
            log.exception("order.submit_failed")
            pipeline_dispatch.hold_unsubmitted(store, ledger, seller, key, HoldReason.INTERNAL_ERROR,
                                               f"submitting failed: {type(exc).__name__}")
            continue
        if done and _platform_acknowledges(key):
            to_acknowledge.append(key)
    if to_acknowledge:  # one task for the batch, not one per order
        acknowledge_orders.apply_async((seller, to_acknowledge), queue="dispatch")
    return len(keys)


def _platform_acknowledges(key: str) -> bool:
    return get_connector(parse_order_key(key).platform).capabilities.acknowledges


@app.task(name="workers.tasks.acknowledge_orders", bind=True, max_retries=MAX_RETRIES, acks_late=True)
def acknowledge_orders(self: Task, seller: str, keys: list[str]) -> int:
    """Acknowledge a submitted batch; a retry skips the orders already acknowledged (their marker)."""
    return sum(_acknowledge(self, seller, key) for key in keys)


def _acknowledge(self: Task, seller: str, key: str) -> bool:
    """Tell the platform the order is taken on (only platforms that ask for it); once per order."""
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


@app.task(name="workers.tasks.cancel_orders", bind=True, max_retries=MAX_RETRIES, acks_late=True)
def cancel_orders(self: Task, seller: str, keys: list[str]) -> int:
    cfg, store, ledger, clients = seller_config(seller), _store(), _ledger(), _warehouses(seller)
    for key in keys:
        _with_retry(self, seller, key, lambda k=key: pipeline_dispatch.cancel_order(store, ledger, cfg, k, clients))
    return len(keys)
