"""Route a batch of orders (a page of a sync, a routing task's keys) with a handful of round trips.

Why: routed one at a time, each order cost a lease, a read of its hash, a read of its allocation,
four reads per SKU and warehouse of stock, and a round trip for its stage and event: some 40 Redis
commands and a dozen round trips per order. Here the leases of the whole batch are taken in one round
trip, the orders and their allocations read in one, the stock of every SKU the batch names in one
(`StockLedger.view_bulk`), every decision reserved in one script (pipeline/stock_batch.py), and every
routed order's stage, timeline event and counters written in one. Each order is still decided by
`release._route_order` under its own lease, from the state read under that lease, and reserved all or
nothing atomically, so every guarantee of `route_order` holds: one router per order, an allocation
kept, never more reserved than available; a shortfall looks again on fresh stock, as alone.
"""

from __future__ import annotations

from config.schema import SellerConfig
from pipeline import keys
from pipeline.errors import UnknownSku
from pipeline.locks import leases
from pipeline.model import OrderStatus
from pipeline.release import ROUTE_LEASE_SECONDS, Outcome, Result, _route_order, finish
from pipeline.route_views import Batch, Views
from pipeline.skus import map_skus
from pipeline.stages import Stage
from pipeline.stock import StockLedger, allocations_of_raw
from pipeline.stock_batch import reserve_many
from pipeline.store import OrderStore
from pipeline.store_reads import decode_many


def route_batch(store: OrderStore, ledger: StockLedger, seller: SellerConfig, order_keys: list[str],
                sku_capabilities: dict[str, list[str]] | None = None, *, rounds: int = 3) -> dict[str, Result]:
    """`route_order` of every key (duplicates once), in the order given; one Result per distinct key.

    The batch holds its leases longer than one order's decision, so an order updated meanwhile (a
    cancellation stored by a sync whose own routing found the lease held, and gave way) is seen when
    the leases are given back (same script) and routed again, up to `rounds` times in all."""
    order_keys = list(dict.fromkeys(order_keys))
    lock_of = {keys.route_lock(store.prefix, seller.seller, key): key for key in order_keys}
    results: dict[str, Result] = {}
    with leases(store.redis, list(lock_of), ROUTE_LEASE_SECONDS) as taken:
        held = [key for lock, key in lock_of.items() if lock in taken.held]
        pipe = store.redis.pipeline(transaction=False)
        store.get_many(seller.seller, held, pipe=pipe)
        ledger.allocation_many(seller.seller, held, pipe)
        replies = pipe.execute()
        stored = decode_many(held, replies[:len(held)])
        for key, one in zip(held, stored, strict=True):  # an update stored meanwhile is routed again below
            taken.watch[keys.route_lock(store.prefix, seller.seller, key)] = (
                keys.order(store.prefix, seller.seller, key), "hash", one.payload_hash if one else "")
        existing = [allocations_of_raw(raw) for raw in replies[len(held):]]
        views = Views(ledger, seller.seller, ledger.view_bulk(seller.seller, [wh.id for wh in seller.warehouses],
                                                              _skus(seller, stored, existing)))
        batch = Batch()
        try:
            for key, one, allocation in zip(held, stored, existing, strict=True):
                result = _route_order(store, ledger, seller, key, sku_capabilities, stored=one,
                                      existing=allocation, views=views, batch=batch)
                if result is not None:
                    results[key] = result
            reserved = reserve_many(ledger, seller.seller, [(p.key, p.decision.allocations) for p in batch.pending])
            views.settle()
            for pending, outcome in zip(batch.pending, reserved, strict=True):
                results[pending.key] = finish(store, ledger, seller, pending, sku_capabilities, views=views,
                                              batch=batch, reserved=outcome)
        finally:
            _write_routed(store, seller.seller, batch)
    changed = [lock_of[lock] for lock in taken.changed]
    if changed and rounds > 1:  # a router that found them held gave way to this batch: finish its job
        results |= route_batch(store, ledger, seller, changed, sku_capabilities, rounds=rounds - 1)
    return {key: results.get(key, Result(Outcome.BUSY)) for key in order_keys}


def _skus(seller: SellerConfig, stored, existing) -> list[str]:
    """The seller SKUs of the orders the batch may have to decide (releasable, not allocated yet)."""
    skus: list[str] = []
    for one, allocation in zip(stored, existing, strict=True):
        if one is None or one.order is None or allocation:
            continue
        if one.order.status not in (OrderStatus.READY, OrderStatus.PARTIALLY_SHIPPED):
            continue
        try:
            order = map_skus(one.order, seller.sku_map)
        except UnknownSku:
            continue
        skus.extend(line.seller_sku for line in order.lines if line.seller_sku)
    return skus


def _write_routed(store: OrderStore, seller: str, batch: Batch) -> None:
    """Stage ROUTED and the routed event of every order the batch reserved, in one round trip."""
    if not batch.routed:
        return
    pipe = store.redis.pipeline(transaction=False)
    for key, *_ in batch.routed:
        store.set_stage(seller, key, Stage.ROUTED, pipe=pipe)
    store.append_events(seller, batch.routed, pipe)
    pipe.execute()
