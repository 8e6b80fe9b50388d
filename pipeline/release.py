"""Route one stored order and reserve its stock, or hold it with a reason; replay holds after a fix.

Always re-reads the order, so a task that runs twice (at-least-once delivery) decides from the
current state; an order that already holds an allocation keeps it. The reservation is atomic, and a
race lost to another router is re-routed once on fresh stock before holding INSUFFICIENT_STOCK.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Iterable

import msgspec
import structlog

from config.schema import SellerConfig
from pipeline import keys
from pipeline.errors import UnknownSku
from pipeline.locks import lease
from pipeline.model import EventKind, FulfilledBy, HoldReason, OrderStatus
from pipeline.routing import Decision, route
from pipeline.skus import map_skus
from pipeline.stages import Stage
from pipeline.stock import Allocation, StockLedger
from pipeline.store import OrderStore

log = structlog.get_logger()

REPLAYABLE = (HoldReason.UNKNOWN_SKU, HoldReason.INSUFFICIENT_STOCK, HoldReason.NO_WAREHOUSE_FOR_COUNTRY,
              HoldReason.ADDRESS_INCOMPLETE, HoldReason.WAREHOUSE_REJECTED, HoldReason.RETRIES_EXHAUSTED,
              HoldReason.INTERNAL_ERROR)


class Outcome(enum.StrEnum):
    ROUTED = "routed"
    ALREADY_ROUTED = "already_routed"
    HELD = "held"
    WAITING = "waiting"  # PENDING: not releasable yet
    IGNORED = "ignored"  # the platform fulfils it
    CANCELLED = "cancelled"
    NOTHING_TO_SHIP = "nothing_to_ship"
    UNMAPPED = "unmapped"  # payload never mapped: stays held INVALID_PAYLOAD
    BUSY = "busy"  # another router is deciding this order right now; it will finish the job


class Result(msgspec.Struct, frozen=True):
    outcome: Outcome
    allocations: tuple[Allocation, ...] = ()
    detail: str = ""


ROUTE_LEASE_SECONDS = 30


def route_order(store: OrderStore, ledger: StockLedger, seller: SellerConfig, key: str,
                sku_capabilities: dict[str, list[str]] | None = None) -> Result:
    """Decide one order. One router per order at a time: without that, a second router could read the
    stock the first just reserved and hold an order that is in fact routed."""
    with lease(store.redis, keys.route_lock(store.prefix, seller.seller, key), ROUTE_LEASE_SECONDS) as held:
        if not held:
            return Result(Outcome.BUSY)
        return _route_order(store, ledger, seller, key, sku_capabilities)


def _route_order(store: OrderStore, ledger: StockLedger, seller: SellerConfig, key: str,
                 sku_capabilities: dict[str, list[str]] | None) -> Result:
    stored = store.get(seller.seller, key)
    if stored is None or stored.order is None:
        return Result(Outcome.UNMAPPED)
    order = stored.order
    bound = log.bind(seller=seller.seller, platform=order.platform, shop=order.shop_id, order_key=key)
    if order.fulfilled_by is FulfilledBy.PLATFORM:
        if stored.stage != Stage.IGNORED:
            store.set_stage(seller.seller, key, Stage.IGNORED)
            store.append_event(seller.seller, key, EventKind.IGNORED, "fulfilled by the platform")
        return Result(Outcome.IGNORED)
    if order.status is OrderStatus.CANCELLED:
        if ledger.release(seller.seller, key):
            store.append_event(seller.seller, key, EventKind.CANCELLED, "reservation released")
        return Result(Outcome.CANCELLED)
    if order.status is OrderStatus.PENDING:
        return Result(Outcome.WAITING)
    if order.status not in (OrderStatus.READY, OrderStatus.PARTIALLY_SHIPPED):
        return Result(Outcome.NOTHING_TO_SHIP)
    existing = ledger.allocation(seller.seller, key)
    if existing:
        return Result(Outcome.ALREADY_ROUTED, tuple(existing))
    if stored.hold is not None and stored.hold.reason is HoldReason.INVALID_PAYLOAD:
        return Result(Outcome.HELD, detail=stored.hold.detail)
    try:
        order = map_skus(order, seller.sku_map)
    except UnknownSku as exc:
        if seller.routing.hold_on_unknown_sku:
            return _hold(store, seller, key, HoldReason.UNKNOWN_SKU, exc.message, stored.hold)
        raise
    decision = _decide(ledger, seller, order, sku_capabilities)
    if decision.routed:
        allocations, short, fresh = ledger.reserve(seller.seller, key, decision.allocations)
        if short:  # another router took the stock between our read and our reservation: look again
            decision = _decide(ledger, seller, order, sku_capabilities)
            allocations, short, fresh = (ledger.reserve(seller.seller, key, decision.allocations)
                                         if decision.routed else ([], [], False))
        if allocations and not fresh:  # a concurrent router of the same order got there first
            return Result(Outcome.ALREADY_ROUTED, tuple(allocations))
        if allocations:
            if stored.hold is not None:
                store.release(seller.seller, key, "routed")
            pipe = store.redis.pipeline(transaction=False)  # stage and timeline in one round trip
            store.set_stage(seller.seller, key, Stage.ROUTED, pipe=pipe)
            store.append_event(seller.seller, key, EventKind.ROUTED, decision.explain(), pipe=pipe)
            pipe.execute()
            bound.info("order.routed", warehouses=[a.warehouse for a in allocations])
            return Result(Outcome.ROUTED, tuple(allocations), decision.explain())
        if decision.routed or short:
            detail = "; ".join(f"{s.seller_sku} at {s.warehouse}: need {s.wanted}, {s.available} free" for s in short)
            return _hold(store, seller, key, HoldReason.INSUFFICIENT_STOCK, detail or "stock taken concurrently",
                         stored.hold)
    if decision.hold is None:
        return Result(Outcome.NOTHING_TO_SHIP)
    detail = decision.hold.detail + (f" (passed over: {decision.explain().split('passed over ', 1)[1]})"
                                     if decision.passed_over else "")
    return _hold(store, seller, key, decision.hold.reason, detail, stored.hold)


def _decide(ledger: StockLedger, seller: SellerConfig, order, sku_capabilities) -> Decision:
    skus = {line.seller_sku for line in order.lines if line.seller_sku}
    view = ledger.view(seller.seller, [(wh.id, sku) for wh in seller.warehouses for sku in skus])
    return route(order, seller, view, sku_capabilities)


def _hold(store: OrderStore, seller: SellerConfig, key: str, reason: HoldReason, detail: str, current) -> Result:
    if current is None or current.reason is not reason or current.detail != detail:
        store.hold(seller.seller, key, reason, detail)
        store.set_stage(seller.seller, key, Stage.HELD)
        log.warning("order.held", seller=seller.seller, order_key=key, reason=reason.value, detail=detail)
    return Result(Outcome.HELD, detail=detail)


def replay_holds(store: OrderStore, ledger: StockLedger, seller: SellerConfig, *,
                 reason: HoldReason | None = None, keys: Iterable[str] | None = None,
                 remap: Callable[[str], str] | None = None,
                 each: Callable[[str, HoldReason, str], None] | None = None) -> dict[str, Counter]:
    """Re-run mapping and routing for held orders; returns {reason: Counter(outcome)} of what moved.

    `remap(key)` maps a kept raw payload again and says what happened (INVALID_PAYLOAD holds, after a
    connector fix); the pipeline cannot do that itself since it never imports a platform module, and
    without it those holds are reported as skipped, never silently passed over. `each(key, reason,
    outcome)` hears about every order, for a per-order report.
    """
    holds = store.holds(seller.seller, reason)
    wanted = set(keys) if keys is not None else None
    report: dict[str, Counter] = {}
    for held_reason, held_keys in holds.items():
        for key in held_keys:
            if wanted is not None and key not in wanted:
                continue
            if held_reason is HoldReason.INVALID_PAYLOAD:
                remapped = remap(key) if remap is not None else "skipped: no connector to map it with"
                if remapped != "mapped":
                    outcome = remapped
                else:
                    outcome = f"mapped, then {route_order(store, ledger, seller, key).outcome.value}"
            elif held_reason not in REPLAYABLE:
                continue
            else:
                outcome = route_order(store, ledger, seller, key).outcome.value
            report.setdefault(held_reason.value, Counter())[_kind(outcome)] += 1
            if each is not None:
                each(key, held_reason, outcome)
    return report


OUTCOME_KINDS = ("still does not map", "skipped", "now maps to another order key")


def _kind(outcome: str) -> str:
    """An outcome without its detail (the error text, the reason), for the per-reason counts."""
    return next((kind for kind in OUTCOME_KINDS if outcome.startswith(kind)), outcome)

