"""Demand per seller SKU, warehouse and destination country, per UTC day, from both storage tiers.

Demand is what buyers asked for, not what shipped: units = quantity - cancelled_quantity of every line
of an order that reached a warehouse (stage routed, submitted or shipped), plus, as *lost* demand, the
lines of orders held INSUFFICIENT_STOCK (a buyer wanted them and no warehouse had them: counting only
what shipped would make a SKU that runs out look like one nobody wants). Orders the platform fulfils and
cancelled orders are left out; an order held for another reason counts as its stage says (once routed it
is demand; held before routing, for an unknown SKU or an address, nothing says stock was short).

An order in both tiers (during a move to the archive) is counted once, the hot copy: the archive's rows
of the keys Redis still holds are read again and subtracted (pipeline/archive/reader.demand_by_day).

The warehouse: in Redis, the order's allocation says which warehouse reserved which SKU. A line with no
warehouse (held for stock, or an allocation already released; in the archive, also a line split across
warehouses) is attributed to the seller's first warehouse, by routing preference (priority, cost hint,
id), that serves its destination country: the one routing would have tried first. A split's share per
warehouse is lost in the archive; this errs towards the preferred warehouse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta

import msgspec

from config.schema import SellerConfig
from pipeline.archive.reader import DEMAND_STAGES, DemandDay
from pipeline.decisions.hot_orders import HotOrder
from pipeline.model import FulfilledBy, HoldReason, OrderStatus

UNKNOWN = ""
"""The warehouse of demand no warehouse of the seller serves (no warehouse for its country)."""


ArchiveQuery = Callable[[str, date, date, Sequence[str] | None], "list[DemandDay] | None"]
"""demand_by_day with its engine bound: (seller, since, until, only_keys) -> rows, None without archive."""


class Demand(msgspec.Struct, frozen=True, kw_only=True):
    """Units asked for on one day of one SKU at one warehouse from one destination country."""

    day: date
    seller_sku: str
    warehouse: str
    country: str
    units: int = 0  # met: the order reached a warehouse
    lost: int = 0  # held INSUFFICIENT_STOCK

    @property
    def total(self) -> int:
        return self.units + self.lost


def preferred_warehouse(seller: SellerConfig, country: str) -> str:
    """The first enabled warehouse routing tries for `country` (priority, cost hint, id); UNKNOWN if none."""
    serving = [wh for wh in seller.warehouses if wh.enabled and country in wh.countries]
    if not serving:
        return UNKNOWN
    return min(serving, key=lambda wh: (wh.priority, wh.cost_hint, wh.id)).id


def hot_demand(seller: SellerConfig, orders: Iterable[HotOrder], since: date, until: date) -> list[Demand]:
    """Demand of the Redis orders placed in [since, until) (unmerged: one entry per line and warehouse)."""
    found = []
    for hot in orders:
        order = hot.order
        if order.status == OrderStatus.CANCELLED or order.fulfilled_by == FulfilledBy.PLATFORM:
            continue
        lost = hot.hold is not None and hot.hold.reason == HoldReason.INSUFFICIENT_STOCK
        if not lost and hot.stage not in DEMAND_STAGES:
            continue
        day = order.placed_at.astimezone(UTC).date()
        if not since <= day < until:
            continue
        country = order.ship_to.country if order.ship_to is not None else ""
        for line in order.lines:
            units = line.quantity - line.cancelled_quantity
            if not line.seller_sku or units <= 0:
                continue
            for warehouse, share in _shares(seller, hot, line.seller_sku, units, country):
                found.append(Demand(day=day, seller_sku=line.seller_sku, warehouse=warehouse, country=country,
                                    units=0 if lost else share, lost=share if lost else 0))
    return found


def _shares(seller: SellerConfig, hot: HotOrder, sku: str, units: int, country: str) -> list[tuple[str, int]]:
    """`units` of `sku` split over the warehouses its allocation names, by what each reserved (evenly when
    nothing is left reserved: shipped already); none named: the preferred warehouse."""
    named = [(a.warehouse, qty) for a in hot.allocations for s, qty in a.lines if s == sku]
    if not named:
        return [(preferred_warehouse(seller, country), units)]
    weights = [qty for _, qty in named] if sum(qty for _, qty in named) > 0 else [1] * len(named)
    total, shares, given = sum(weights), [], 0
    for i, ((warehouse, _), weight) in enumerate(zip(named, weights, strict=True)):
        share = units - given if i == len(named) - 1 else units * weight // total
        given += share
        shares.append((warehouse, share))
    return [(wh, n) for wh, n in shares if n]


def archived_demand(seller: SellerConfig, rows: Iterable[DemandDay], sign: int = 1) -> list[Demand]:
    """The archive's rows as Demand, a line without a warehouse at the preferred one (`sign` -1: to subtract)."""
    return [Demand(day=row.day, seller_sku=row.seller_sku, country=row.country,
                   warehouse=row.warehouse if row.warehouse is not None else preferred_warehouse(seller, row.country),
                   units=sign * row.units, lost=sign * row.lost)
            for row in rows]


def merge(entries: Iterable[Demand]) -> list[Demand]:
    """One entry per (day, SKU, warehouse, country), summed; entries that sum to nothing dropped."""
    sums: dict[tuple[date, str, str, str], list[int]] = {}
    for e in entries:
        cell = sums.setdefault((e.day, e.seller_sku, e.warehouse, e.country), [0, 0])
        cell[0] += e.units
        cell[1] += e.lost
    return [Demand(day=d, seller_sku=s, warehouse=w, country=c, units=u, lost=lost)
            for (d, s, w, c), (u, lost) in sorted(sums.items()) if u or lost]


def seller_demand(seller: SellerConfig, hot: Sequence[HotOrder], archive: ArchiveQuery | None, since: date,
                  until: date) -> list[Demand]:
    """Both tiers' demand in [since, until), each order once (the hot copy wins)."""
    entries = hot_demand(seller, hot, since, until)
    if archive is not None:
        entries += archived_demand(seller, archive(seller.seller, since, until, None) or [])
        hot_keys = sorted({h.order.key for h in hot})
        if hot_keys:
            entries += archived_demand(seller, archive(seller.seller, since, until, hot_keys) or [], sign=-1)
    return merge(entries)


def daily_series(entries: Iterable[Demand], since: date, until: date) -> dict[tuple[str, str], list[int]]:
    """Per (SKU, warehouse), units asked for (met + lost) on each day of [since, until), zero-filled:
    a day without sales is a zero, not a gap."""
    days = (until - since).days
    series: dict[tuple[str, str], list[int]] = {}
    for e in entries:
        if since <= e.day < until:
            series.setdefault((e.seller_sku, e.warehouse), [0] * days)[(e.day - since).days] += e.total
    return series


def by_country(entries: Iterable[Demand]) -> dict[tuple[str, str], dict[str, int]]:
    """Per (SKU, warehouse), the units (met + lost) of each destination country over the entries' days."""
    found: dict[tuple[str, str], dict[str, int]] = {}
    for e in entries:
        countries = found.setdefault((e.seller_sku, e.warehouse), {})
        countries[e.country] = countries.get(e.country, 0) + e.total
    return found


def day_start(day: date) -> datetime:
    """The first instant of a UTC day (hot_orders' bounds are times)."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def window(today: date, days: int) -> tuple[date, date]:
    """The `days` full UTC days before `today` (today is partial: it would read as a slow day)."""
    return today - timedelta(days=days), today
