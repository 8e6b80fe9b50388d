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
from pipeline.store_reads import decode_many
from pipeline.submissions import Records, preload
from workers.app import app
from workers.clients import platform_client
from workers.common import MAX_RETRIES, _ledger, _store, _warehouses, _with_retry, log
from workers.config_cache import seller_config


@app.task(name="workers.tasks.submit_orders", bind=True, max_retries=MAX_RETRIES, acks_late=True)
def submit_orders(self: Task, seller: str, keys: list[str]) -> int:
    structlog.contextvars.bind_contextvars(seller=seller)
    cfg, store, ledger, clients = seller_config(seller), _store(), _ledger(), _warehouses(seller)
    to_acknowledge = []
    keys = list(dict.fromkeys(keys))
    for start in range(0, len(keys), DISPATCH_CHUNK):
        to_acknowledge += _submit_chunk(self, seller, cfg, store, ledger, clients, keys[start:start + DISPATCH_CHUNK])
    if to_acknowledge:  # one task for the batch, not one per order
        acknowledge_orders.apply_async((seller, to_acknowledge), queue="dispatch")
    return len(keys)


DISPATCH_CHUNK = 10
"""Orders read in one round trip and recorded in one transaction. Small, because until its chunk is
recorded a submission is invisible to a cancellation running beside it (as between one create and its
record): ten orders' reads cost one round trip instead of ten, and the window stays ten creates long."""


def _submit_chunk(self: Task, seller: str, cfg, store, ledger, clients, keys: list[str]) -> list[str]:
    to_acknowledge = []
    preloaded = preload(store, ledger, seller, keys)  # every order's reads in one round trip
    batch = Records(store, seller)  # and every submission's writes in one transaction, at the end
    try:
        for key in keys:
            structlog.contextvars.bind_contextvars(order_key=key)
            try:
                done = _with_retry(self, seller, key, lambda k=key: pipeline_dispatch.submit_order(
                    store, ledger, cfg, k, clients, preloaded=preloaded[k], batch=batch))
            except Retry:
                raise
            except Exception as exc:  # a bug on one order must not strand the rest of the batch
                log.exception("order.submit_failed")
                batch.flush()  # what it recorded before failing stays recorded, as without a batch
                pipeline_dispatch.hold_unsubmitted(store, ledger, seller, key, HoldReason.INTERNAL_ERROR,
                                                   f"submitting failed: {type(exc).__name__}")
                continue
            if done and _platform_acknowledges(key):
                to_acknowledge.append(key)
    finally:
        batch.flush()
    return to_acknowledge


def _platform_acknowledges(key: str) -> bool:
    return get_connector(parse_order_key(key).platform).capabilities.acknowledges


@app.task(name="workers.tasks.acknowledge_orders", bind=True, max_retries=MAX_RETRIES, acks_late=True)
def acknowledge_orders(self: Task, seller: str, keys: list[str]) -> int:
    """Acknowledge a submitted batch; a retry skips the orders already acknowledged (their marker). The
    markers and orders of the whole batch are read in one round trip."""
    keys = list(dict.fromkeys(keys))
    store, client_redis, cfg = _store(), get_redis(), seller_config(seller)
    markers = [_marker(seller, key) for key in keys]
    pipe = client_redis.pipeline(transaction=False)
    store.get_many(seller, keys, pipe=pipe)
    for marker in markers:
        pipe.exists(marker)
    replies = pipe.execute()
    stored = decode_many(keys, replies[:len(keys)])
    done = replies[len(keys):]
    return sum(_acknowledge(self, store, client_redis, cfg, key, one, marker) for key, one, marker, acknowledged
               in zip(keys, stored, markers, done, strict=True) if not acknowledged)


def _marker(seller: str, key: str) -> str:
    return keys.acknowledged(key_prefix(), seller, key)


def _acknowledge(self: Task, store, client_redis, cfg, key: str, stored, marker: str) -> bool:
    """Tell the platform the order is taken on (only platforms that ask for it); once per order."""
    if stored is None or stored.order is None:
        return False
    seller = cfg.seller
    structlog.contextvars.bind_contextvars(seller=seller, order_key=key)

    def ack() -> None:
        _, platform, _ = platform_client(cfg, cfg.shop(stored.order.shop_id), client_redis, key_prefix())
        client: AcknowledgingClient = platform  # only orders of connectors that declare `acknowledges` come here
        try:
            outcome = client.acknowledge(stored.order.external_id)
        except NeedsReview as exc:
            store.append_event(seller, key, EventKind.NOTE, f"platform refused the acknowledgement: {exc}")
            return
        if outcome.accepted:  # the marker and its note in one round trip
            pipe = client_redis.pipeline(transaction=False)
            pipe.set(marker, 1)
            store.append_event(seller, key, EventKind.NOTE, "acknowledged to the platform", pipe=pipe)
            pipe.execute()

    _with_retry(self, seller, key, ack)
    return True


@app.task(name="workers.tasks.cancel_orders", bind=True, max_retries=MAX_RETRIES, acks_late=True)
def cancel_orders(self: Task, seller: str, keys: list[str]) -> int:
    cfg, store, ledger, clients = seller_config(seller), _store(), _ledger(), _warehouses(seller)
    for key in keys:
        _with_retry(self, seller, key, lambda k=key: pipeline_dispatch.cancel_order(store, ledger, cfg, k, clients))
    return len(keys)
