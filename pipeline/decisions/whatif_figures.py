"""The figures a routing what-if compares, for one set of outcomes under one seller config, and their deltas.

- orders per warehouse: an order counts once at each warehouse it has a parcel from (a split order at each);
- cross-border: a routed order with a parcel from a warehouse standing in another country than the ship-to's;
  a routed order that is not cross-border but has a parcel from a warehouse whose `country` is not set is
  counted apart (unknown), and the share is cross-border over routed orders;
- split rate: routed orders with more than one parcel (allocation) over routed orders;
- holds per reason;
- cost_hint: the sum over parcels (one per order and warehouse) of that warehouse's `cost_hint` in the
  config the outcome is priced with (each replay its own; production's record with production's config);
  a parcel from a warehouse that config does not know is counted as unpriced;
- ship-by misses: routed orders with a ship-by where placed_at + the largest `handling_days` of the
  warehouses it went to falls after the ship-by (routing takes place at placement, near enough); routed
  orders without a ship-by are counted apart, not as misses.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

import msgspec

from config.schema import SellerConfig
from pipeline.decisions.replay_orders import Outcome, ReplayOrder


class Figures(msgspec.Struct, kw_only=True):
    orders: int = 0
    routed: int = 0
    held: int = 0
    nothing_to_ship: int = 0  # replayed: no unit left to ship; production's record: no warehouse known
    per_warehouse: dict[str, int] = {}
    cross_border: int = 0
    domestic: int = 0
    unknown_country: int = 0
    cross_border_share: float = 0.0
    split: int = 0
    split_rate: float = 0.0
    holds: dict[str, int] = {}
    cost_hint: float = 0.0
    unpriced_parcels: int = 0
    ship_by_misses: int = 0
    without_ship_by: int = 0


def figures(orders: Sequence[ReplayOrder], outcomes: Sequence[Outcome], seller: SellerConfig) -> Figures:
    """The figures of `outcomes` (one per order, in the same order), priced with `seller`'s warehouses."""
    warehouses = {wh.id: wh for wh in seller.warehouses}
    handling = {wh.id: timedelta(days=wh.handling_days) for wh in seller.warehouses}
    per_warehouse: Counter[str] = Counter()
    holds: Counter[str] = Counter()
    fig = Figures(orders=len(outcomes))
    cost = 0.0
    for item, outcome in zip(orders, outcomes, strict=True):
        if outcome.hold is not None:
            holds[outcome.hold] += 1
            continue
        if not outcome.warehouses:
            fig.nothing_to_ship += 1
            continue
        fig.routed += 1
        per_warehouse.update(outcome.warehouses)
        fig.split += len(outcome.warehouses) > 1
        order = item.order
        destination = order.ship_to.country if order.ship_to is not None else ""
        crossing = unknown = False
        for wh_id in outcome.warehouses:
            wh = warehouses.get(wh_id)
            if wh is None:
                fig.unpriced_parcels += 1
                unknown = True
                continue
            cost += wh.cost_hint
            if not wh.country or not destination:
                unknown = True
            elif wh.country != destination:
                crossing = True
        if crossing:
            fig.cross_border += 1
        elif unknown:
            fig.unknown_country += 1
        else:
            fig.domestic += 1
        if order.ship_by is None:
            fig.without_ship_by += 1
        else:
            days = [handling[wh_id] for wh_id in outcome.warehouses if wh_id in handling]
            if days and order.placed_at + max(days) > order.ship_by:
                fig.ship_by_misses += 1
    fig.held = sum(holds.values())
    fig.per_warehouse = dict(sorted(per_warehouse.items()))
    fig.holds = dict(sorted(holds.items()))
    fig.cost_hint = round(cost, 6)
    fig.cross_border_share = round(fig.cross_border / fig.routed, 6) if fig.routed else 0.0
    fig.split_rate = round(fig.split / fig.routed, 6) if fig.routed else 0.0
    return fig


def delta(candidate: Figures, baseline: Figures) -> Figures:
    """candidate - baseline, figure by figure (a warehouse or reason on one side only counts 0 on the
    other); shares are differences of shares. Keys whose delta is 0 are left out of the per-warehouse and
    per-reason maps, so the same config gives empty maps and zeros."""
    def keyed(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
        return {k: a.get(k, 0) - b.get(k, 0) for k in sorted(a.keys() | b.keys()) if a.get(k, 0) != b.get(k, 0)}

    plain = {field: getattr(candidate, field) - getattr(baseline, field) for field in Figures.__struct_fields__
             if field not in ("per_warehouse", "holds")}
    for field in ("cost_hint", "cross_border_share", "split_rate"):
        plain[field] = round(plain[field], 6)
    return Figures(**plain, per_warehouse=keyed(candidate.per_warehouse, baseline.per_warehouse),
                   holds=keyed(candidate.holds, baseline.holds))
