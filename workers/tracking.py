"""Tracking: warehouses polled for shipped orders, and each shipment's tracking pushed to its
platform once. A shipment poll also re-reads the warehouse's stock, since units just left it.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from celery import Task

from orderhub.runtime.redisconn import get_redis
from orderhub.runtime.settings import key_prefix
from pipeline import keys
from pipeline.errors import NeedsReview
from pipeline.fulfilment import (
    mark_tracking_pushed,
    mark_tracking_refused,
    overdue_tracking,
    recorded_shipments,
    tracking_push,
    tracking_was_pushed,
)
from pipeline.fulfilment import poll_shipments as record_polled
from pipeline.locks import live_lease
from workers.app import app
from workers.clients import platform_client
from workers.common import (
    MAX_RETRIES,
    RETRYABLE,
    _hint,
    _ledger,
    _store,
    _warehouses,
    _with_retry,
    backoff,
    log,
)
from workers.config_cache import seller_config
from workers.stock import pull_inventory

SHIPMENT_SLICE = timedelta(hours=1)
"""The longest slice of completion time a shipment poll reads before moving its cursor (for
warehouses that can bound the read); shorter after polls cut off by their time limit."""


@app.task(name="workers.tasks.poll_shipments", bind=True, max_retries=MAX_RETRIES, acks_late=True)
def poll_shipments(self: Task, seller: str, warehouse: str) -> int:
    """Shipped outbound orders since the warehouse cursor; each new one gets its tracking pushed."""
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


@app.task(name="workers.tasks.push_tracking", bind=True, max_retries=MAX_RETRIES, acks_late=True)
def push_tracking(self: Task, seller: str, key: str, warehouse: str) -> bool:
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
