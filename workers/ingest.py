"""Orders in from the platforms: the scheduled and reconciling syncs, the sweep for stalled routings,
the fetch a webhook asks for, and the re-fetch of orders held for an address.

Retries live here for long outages (a platform down for minutes); quick retries live in the HTTP
client. An authentication failure stops that shop's sync and is reported once, not retried
(pipeline/shop_health.py).
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import structlog
from celery import Task

from config.schema import SellerConfig
from orderhub.runtime.redisconn import get_redis
from orderhub.runtime.settings import key_prefix
from pipeline import keys, shop_health, withheld
from pipeline.archive import get_engine
from pipeline.archive.relisted import ArchiveLink
from pipeline.errors import AuthenticationFailed
from pipeline.identity import order_key
from pipeline.locks import live_lease
from pipeline.model import utc_now
from pipeline.release import Outcome, route_order
from pipeline.sync import fetch_and_store, sync_orders
from workers.app import app
from workers.clients import platform_client
from workers.common import MAX_RETRIES, RETRYABLE, _hint, _ledger, _store, backoff, log
from workers.config_cache import seller_config
from workers.dispatch import submit_orders
from workers.route import _route_in_batches, push_reserved, reserved_skus, route_orders

SYNC_SLICE = timedelta(days=1)
"""The longest slice a sync reads before moving its cursor: a run cut off by its time limit resumes
there, and slices shrink while runs keep being cut off (pipeline/windows.py SliceHint). Without it a
window too big for one task (a week's first sync, a backlog after an outage) was re-read forever."""


def _run_sync(task: Task, seller: str, shop_id: str, **sync_kwargs: Any) -> dict[str, Any]:
    client_redis = get_redis()
    structlog.contextvars.bind_contextvars(seller=seller, shop=shop_id)
    if shop_health.auth_failed(client_redis, key_prefix(), seller, shop_id):
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
                                 archive=_archive(cfg), **sync_kwargs)
        except AuthenticationFailed as exc:
            shop_health.mark_auth_failed(client_redis, key_prefix(), seller, shop_id, exc.detail)
            log.error("shop.auth_failed", error=str(exc))
            return {"auth_failed": True}
        except RETRYABLE as exc:
            raise task.retry(exc=exc, countdown=backoff(task.request.retries, _hint(exc))) from exc
    return {"seen": report.seen, "results": report.results, "until": report.until.isoformat()}


def _archive(cfg: SellerConfig) -> ArchiveLink:
    """The archive, for recognising archived orders listed again, within the seller's tombstone window."""
    return ArchiveLink(get_engine(), cfg.retention.tombstone_days)


@app.task(name="workers.tasks.sync_shop", bind=True, max_retries=MAX_RETRIES, acks_late=True)
def sync_shop(self: Task, seller: str, shop_id: str) -> dict[str, Any]:
    """Incremental sync of one shop; one at a time per shop."""
    return _run_sync(self, seller, shop_id)


@app.task(name="workers.tasks.reconcile_shop", bind=True, max_retries=MAX_RETRIES, acks_late=True)
def reconcile_shop(self: Task, seller: str, shop_id: str, days: int = 3) -> dict[str, Any]:
    """Re-read a wide window and repair anything an incremental sync missed; the cursor stays put."""
    return _run_sync(self, seller, shop_id, since=utc_now() - timedelta(days=days), move_cursor=False,
                     reuse_rows=False)


@app.task(name="workers.tasks.resume_stalled", acks_late=True)
def resume_stalled(seller: str, quiet_seconds: float) -> int:
    """Route again the orders whose routing stalled with no message left to finish it (routing and
    submission are idempotent, so one still on its way is merely routed twice)."""
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


@app.task(name="workers.tasks.fetch_order", bind=True, max_retries=MAX_RETRIES, acks_late=True)
def fetch_order(self: Task, seller: str, shop_id: str, external_id: str) -> str:
    """Fetch one order now (a webhook said it changed); polling stays the safety net."""
    structlog.contextvars.bind_contextvars(seller=seller, shop=shop_id)
    cfg = seller_config(seller)
    try:
        connector, client, ref = platform_client(cfg, cfg.shop(shop_id), get_redis(), key_prefix())
        result = fetch_and_store(_store(), connector, client, ref, external_id, _archive(cfg))
        route_orders.apply_async((seller, [order_key(ref.platform, ref.shop_id, external_id)]), queue="route")
        return result.value
    except RETRYABLE as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries, _hint(exc))) from exc


@app.task(name="workers.tasks.refetch_withheld", acks_late=True)
def refetch_withheld(seller: str) -> dict[str, int]:
    """Fetch again the orders held for an address the platform has not released yet (pipeline/withheld.py)."""
    structlog.contextvars.bind_contextvars(seller=seller)
    cfg, store, ledger, now = seller_config(seller), _store(), _ledger(), utc_now()
    keys = withheld.due(store, seller, now)
    if not keys:
        return {}
    clients: dict[str, Any] = {}
    routed: list[str] = []
    reserved: set[str] = set()

    def fetch(order) -> None:
        if order.shop_id not in clients:
            clients[order.shop_id] = platform_client(cfg, cfg.shop(order.shop_id), get_redis(), key_prefix())
        connector, client, ref = clients[order.shop_id]
        fetch_and_store(store, connector, client, ref, order.external_id)

    def route(key: str) -> None:
        result = route_order(store, ledger, cfg, key)
        if result.outcome is Outcome.ROUTED:
            routed.append(key)
            reserved.update(reserved_skus(result))

    counts = withheld.refetch(store, seller, keys, now, fetch, route)
    if routed:
        submit_orders.apply_async((seller, routed), queue="dispatch")
        push_reserved(seller, reserved)
    log.info("address.refetched", **counts)
    return counts
