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
from pipeline.model import Address, EventKind, FulfilledBy, HoldReason, OrderStatus, utc_now
from pipeline.route_views import Batch, Pending, Views
from pipeline.routing import Decision, route
from pipeline.skus import map_skus
from pipeline.stages import Stage
from pipeline.stock import Allocation, StockLedger
from pipeline.store import OrderStore

log = structlog.get_logger()

REPLAYABLE = (HoldReason.UNKNOWN_SKU, HoldReason.INSUFFICIENT_STOCK, HoldReason.NO_WAREHOUSE_FOR_COUNTRY,
              HoldReason.ADDRESS_INCOMPLETE, HoldReason.WAREHOUSE_REJECTED, HoldReason.RETRIES_EXHAUSTED,
              HoldReason.INTERNAL_ERROR)
PARCEL_OUT = (HoldReason.CANCEL_TOO_LATE, HoldReason.ADDRESS_CHANGED_AFTER_SUBMIT)
"""Holds about a parcel already out, which ops settle outside Orderhub (intercept, reship, recall,
refund): nothing is left to route, so they are resolved (`orderhub holds resolve`), not replayed, and an
order held so closes like a shipped one (pipeline/archive/closing.py)."""


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
    ship_to: Address | None = None
    """For ALREADY_ROUTED and NOTHING_TO_SHIP: the order's ship-to as routing read it, so that only an
    order whose warehouses were sent somewhere else goes back to dispatch (pipeline/address_changes.py
    `owed_dispatch`), not every order whose platform copy changed after submission."""


ROUTE_LEASE_SECONDS = 30


def route_order(store: OrderStore, ledger: StockLedger, seller: SellerConfig, key: str,
                sku_capabilities: dict[str, list[str]] | None = None) -> Result:
    """Decide one order. One router per order at a time: without that, a second router could read the
    stock the first just reserved and hold an order that is in fact routed."""
    with lease(store.redis, keys.route_lock(store.prefix, seller.seller, key), ROUTE_LEASE_SECONDS) as held:
        if not held:
            return Result(Outcome.BUSY)
        return _route_order(store, ledger, seller, key, sku_capabilities)


_READ = object()  # `_route_order` reads the order and its allocation itself


def _route_order(store: OrderStore, ledger: StockLedger, seller: SellerConfig, key: str,
                 sku_capabilities: dict[str, list[str]] | None, *, stored=_READ, existing=_READ,
                 views: Views | None = None, batch: Batch | None = None) -> Result | None:
    """Decide one order held under its lease. A batch (pipeline/route_batch.py) passes the order and its
    allocation as read under the lease, a shared stock view, and a `Batch` collecting the routed
    orders' stage and timeline writes for one round trip; alone, each is read and written here. A batch
    gets None for an order it is to reserve (see `finish`)."""
    stored = store.get(seller.seller, key) if stored is _READ else stored
    if stored is None or stored.order is None:
        return Result(Outcome.UNMAPPED)
    order = stored.order
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
        return Result(Outcome.NOTHING_TO_SHIP, ship_to=order.ship_to)
    existing = ledger.allocation(seller.seller, key) if existing is _READ else existing
    if existing:
        return Result(Outcome.ALREADY_ROUTED, tuple(existing), ship_to=order.ship_to)
    if stored.hold is not None and stored.hold.reason is HoldReason.INVALID_PAYLOAD:
        return Result(Outcome.HELD, detail=stored.hold.detail)
    try:
        order = map_skus(order, seller.sku_map)
    except UnknownSku as exc:
        if seller.routing.hold_on_unknown_sku:
            return _hold(store, seller, key, HoldReason.UNKNOWN_SKU, exc.message, stored.hold)
        raise
    decision = _decide(ledger, seller, order, sku_capabilities, views)
    if views is not None and not decision.routed:  # never hold on a batch's view: stock may have come back
        decision = _decide(ledger, seller, order, sku_capabilities, views, fresh=True)
    if decision.routed:
        if batch is not None:  # the batch reserves every decided order in one script
            views.take(decision.allocations, pending=True)
            batch.pending.append(Pending(key, stored, order, decision, utc_now()))
            return None
        return finish(store, ledger, seller, Pending(key, stored, order, decision, utc_now()), sku_capabilities,
                      views=views, batch=batch)
    return _not_routed(store, seller, key, decision, stored.hold, order.ship_to)


def finish(store: OrderStore, ledger: StockLedger, seller: SellerConfig, pending: Pending,
           sku_capabilities: dict[str, list[str]] | None, *, views: Views | None = None, batch: Batch | None = None,
           reserved: tuple | None = None) -> Result:
    """Reserve a routed decision (or take the batch's `reserved` outcome of it) and write what follows:
    a shortfall looks again on fresh stock once, then holds; another router's allocation is kept."""
    key, stored, order, decision = pending.key, pending.stored, pending.order, pending.decision
    taken = reserved is not None  # the batch already counted this decision in its view
    allocations, short, fresh = reserved or ledger.reserve(seller.seller, key, decision.allocations)
    if short:  # another router took the stock between our read and our reservation: look again
        decision = _decide(ledger, seller, order, sku_capabilities, views, fresh=True)
        allocations, short, fresh = (ledger.reserve(seller.seller, key, decision.allocations)
                                     if decision.routed else ([], [], False))
        taken = False
    if allocations and not fresh:  # a concurrent router of the same order got there first
        return Result(Outcome.ALREADY_ROUTED, tuple(allocations), ship_to=order.ship_to)
    if allocations:
        if stored.hold is not None:
            store.release(seller.seller, key, "routed")
        if views is not None and not taken:
            views.take(allocations)
        if batch is not None:  # the batch writes every routed order's stage and event at once
            batch.routed.append((key, EventKind.ROUTED, decision.explain(), pending.at if taken else utc_now()))
        else:
            pipe = store.redis.pipeline(transaction=False)  # stage and timeline in one round trip
            store.set_stage(seller.seller, key, Stage.ROUTED, pipe=pipe)
            store.append_event(seller.seller, key, EventKind.ROUTED, decision.explain(), pipe=pipe)
            pipe.execute()
        log.info("order.routed", seller=seller.seller, platform=order.platform, shop=order.shop_id, order_key=key,
                 warehouses=[a.warehouse for a in allocations])
        return Result(Outcome.ROUTED, tuple(allocations), decision.explain())
    if decision.routed or short:
        detail = "; ".join(f"{s.seller_sku} at {s.warehouse}: need {s.wanted}, {s.available} free" for s in short)
        return _hold(store, seller, key, HoldReason.INSUFFICIENT_STOCK, detail or "stock taken concurrently",
                     stored.hold)
    return _not_routed(store, seller, key, decision, stored.hold, order.ship_to)


def _not_routed(store: OrderStore, seller: SellerConfig, key: str, decision: Decision, current,
                ship_to: Address | None) -> Result:
    if decision.hold is None:
        return Result(Outcome.NOTHING_TO_SHIP, ship_to=ship_to)
    detail = decision.hold.detail + (f" (passed over: {decision.explain().split('passed over ', 1)[1]})"
                                     if decision.passed_over else "")
    return _hold(store, seller, key, decision.hold.reason, detail, current)


def _decide(ledger: StockLedger, seller: SellerConfig, order, sku_capabilities, views: Views | None = None,
            fresh: bool = False) -> Decision:
    skus = {line.seller_sku for line in order.lines if line.seller_sku}
    pairs = [(wh.id, sku) for wh in seller.warehouses for sku in skus]
    # a batch's view is read once for the batch, and refreshed when a reservation found it stale
    view = ledger.view(seller.seller, pairs) if views is None else views.get(pairs, fresh=fresh)
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

