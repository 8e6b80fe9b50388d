"""Routing what-if: replay a period's orders through the router under a candidate seller config, side-effect free.

Production's own record cannot be the baseline: it was made on live stock, by a config that may have
changed since, with addresses released later, and parts of it (a released reservation) are gone. So the
production config and the candidate are both replayed through the same simulation and the deltas are
candidate - baseline: the same config gives zero deltas exactly, and a delta is what the config change
alone did. What production recorded is shown beside them, for reference.

The simulation, per config: the orders in placed order (pipeline/decisions/replay_orders.py); each UTC
day starts from the stock as it stood (pipeline/decisions/replay_stock.py) and every order routed that
day takes its units from it (reservations simulated in order), so a later order can be held
INSUFFICIENT_STOCK by an earlier one. An order is routed as production routes it (pipeline/release.py):
its SKUs mapped with the config's SKU map (held UNKNOWN_SKU when one does not map), then `route` with no
SKU capabilities (production passes none). Days are independent: each starts from what production's
own choices left, so the candidate diverges from production one day at a time.

Reads only: nothing is reserved, held, written or sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

import msgspec

from config.schema import SellerConfig
from pipeline.decisions.replay_orders import Outcome, ReplayOrder, Tiers, hot_replay_orders, merge
from pipeline.decisions.replay_stock import Available, StartingStock
from pipeline.decisions.whatif_figures import Figures, delta, figures
from pipeline.errors import UnknownSku
from pipeline.model import HoldReason, Order
from pipeline.routing import route
from pipeline.skus import map_skus
from pipeline.stock import StockLedger
from pipeline.store import OrderStore

CHANGED_SHOWN = 20
"""How many changed orders the report names (all are counted)."""

_UNKNOWN_SKU = Outcome(hold=HoldReason.UNKNOWN_SKU.value)


class WhatIf(msgspec.Struct, kw_only=True):
    """A what-if's report: the figures of production's record, of the baseline replay and of the candidate
    replay, candidate - baseline, and which orders changed outcome (labels as `Outcome.label`)."""

    seller: str
    since: datetime
    until: datetime
    tiers: Tiers
    stock_days: dict[str, int]  # days by where their starting stock came from (replay_stock.py)
    recorded: Figures
    baseline: Figures
    candidate: Figures
    delta: Figures
    moved: dict[str, int]  # "baseline outcome -> candidate outcome": orders
    changed: int
    changed_keys: list[str]  # the first CHANGED_SHOWN changed orders, in placed order


def simulate(orders: Sequence[ReplayOrder], seller: SellerConfig, stock: StartingStock) -> list[Outcome]:
    """Each order's outcome under `seller`, routed in the given (placed) order on the day's stock."""
    outcomes: list[Outcome] = []
    day = None
    available: Available = {}
    for item in orders:
        placed = item.order.placed_at.date()
        if placed != day:
            day, available = placed, stock.start_of(placed)
        outcomes.append(_route(item.order, seller, available))
    return outcomes


def _route(order: Order, seller: SellerConfig, available: Available) -> Outcome:
    try:
        mapped = map_skus(order, seller.sku_map)
    except UnknownSku:
        return _UNKNOWN_SKU
    decision = route(mapped, seller, available)
    if decision.hold is not None:
        return Outcome(hold=decision.hold.reason.value)
    for allocation in decision.allocations:
        wh = allocation.warehouse
        for sku, quantity in allocation.lines:
            available[(wh, sku)] = available.get((wh, sku), 0) - quantity
    return Outcome(tuple(allocation.warehouse for allocation in decision.allocations))


def what_if(orders: Sequence[ReplayOrder], tiers: Tiers, production: SellerConfig, candidate: SellerConfig,
            stock: StartingStock, since: datetime, until: datetime) -> WhatIf:
    """Replay `orders` under both configs on the same starting stock and compare (module docstring)."""
    baseline_outcomes = simulate(orders, production, stock)
    # both replays start the same days from the same stock: StartingStock counts each day once
    candidate_outcomes = simulate(orders, candidate, stock)
    baseline = figures(orders, baseline_outcomes, production)
    replayed = figures(orders, candidate_outcomes, candidate)
    moved: Counter[str] = Counter()
    changed: list[str] = []
    for item, before, after in zip(orders, baseline_outcomes, candidate_outcomes, strict=True):
        if before != after:
            moved[f"{before.label()} -> {after.label()}"] += 1
            changed.append(item.order.key)
    return WhatIf(seller=production.seller, since=since, until=until, tiers=tiers, stock_days=dict(stock.sources),
                  recorded=figures(orders, [item.recorded for item in orders], production), baseline=baseline,
                  candidate=replayed, delta=delta(replayed, baseline),
                  moved=dict(sorted(moved.items(), key=lambda kv: (-kv[1], kv[0]))), changed=len(changed),
                  changed_keys=changed[:CHANGED_SHOWN])


def run_what_if(store: OrderStore, archived: Iterable[ReplayOrder], snapshots: Mapping[date, Available],
                production: SellerConfig, candidate: SellerConfig, since: datetime, until: datetime,
                assumed: Mapping[str, int] | None = None) -> WhatIf:
    """The what-if of [since, until): `archived` (archived_replay_orders) and `snapshots` (snapshot_days)
    read from the archive by the caller, which may have none; the hot orders and, for days no snapshot
    starts, the ledger's current stock (of every warehouse either config names) read here. Reads only."""
    orders, tiers = merge(archived, hot_replay_orders(store, production.seller, since, until))
    warehouses = sorted({wh.id for cfg in (production, candidate) for wh in cfg.warehouses})
    ledger = StockLedger(store.redis, store.prefix)
    stock = StartingStock(snapshots, lambda: ledger.available_all(production.seller, warehouses), assumed)
    return what_if(orders, tiers, production, candidate, stock, since, until)
