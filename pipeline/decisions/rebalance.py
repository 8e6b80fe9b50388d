"""Transfer suggestions: moves between the seller's warehouses, along the lanes its config declares, that
lower the total stock-out probability most per unit of cost. Suggested only: nothing is moved.

Greedy. Each round looks at every lane, every SKU its source holds beyond its own need, and a few
quantities (the units that would bring the destination to its need, a quarter, half and three quarters
of that, and all the source can spare), and takes the move with the largest

    gain / (quantity * cost_per_unit),   gain = sum of both ends' probabilities before - after;

then the stock is moved on paper and the next round re-evaluates (only the candidates of that SKU with
an end at either warehouse of the move can have changed, so only those are computed again). It stops
when no move gains at least MIN_GAIN (a tenth of a percentage point: below that a move is noise that
still costs).

A source keeps its need, ceil(mean * (lead_time_days + safety_days)): a transfer never creates the risk
it removes elsewhere. Units arrive after the lane's `days`: a destination with A units now and
arrivals q_1..q_n on days t_1 <= .. <= t_n before its lead time L runs out unless demand stays within
what it has at every arrival and at L. Those events are positively associated (all grow with demand),
so the probability of meeting all is at least the product of each (Harris' inequality), and

    P(out) = 1 - P(D(t_1) <= A) * P(D(t_2) <= A + q_1) * ... * P(D(L) <= A + q_1 + .. + q_n)

is an upper bound: a transfer's benefit is never overstated. A lane slower than L helps nothing within
the horizon and is not used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal

import msgspec

from config.schema import SellerConfig, TransferLane
from pipeline.decisions.distribution import over
from pipeline.decisions.forecast import Forecast
from pipeline.decisions.risk import NO_DEMAND, SkuRisk

MIN_GAIN = 0.001
MAX_ROUNDS = 5000


class Suggestion(msgspec.Struct, frozen=True, kw_only=True):
    seller_sku: str
    source: str
    destination: str
    quantity: int
    days: float
    cost: Decimal
    source_before: float
    source_after: float
    destination_before: float
    destination_after: float
    why_from: str
    why_to: str

    def explain(self) -> str:
        return (f"move {self.quantity} x {self.seller_sku} {self.source} -> {self.destination} (arrives in "
                f"{self.days:g} days, cost {self.cost}): from {self.source}: {self.why_from}; to "
                f"{self.destination}: {self.why_to}")


class _Spot(msgspec.Struct, kw_only=True):
    """One SKU at one warehouse, as the moves so far leave it."""

    available: int
    fc: Forecast
    lead: float
    safety: float
    arrivals: list[tuple[float, int]] = []

    @property
    def need(self) -> int:
        return math.ceil(self.fc.mean * (self.lead + self.safety))

    def probability(self, available: int | None = None, arriving: tuple[float, int] | None = None) -> float:
        have = self.available if available is None else available
        arrivals = sorted(self.arrivals + ([arriving] if arriving else []))
        survive = 1.0
        for day, qty in arrivals:
            if day >= self.lead:
                break
            survive *= over(self.fc.mean, self.fc.variance, day).cdf(have)
            have += qty
        survive *= over(self.fc.mean, self.fc.variance, self.lead).cdf(have)
        return min(1.0, max(0.0, 1.0 - survive))


def transfer_terms(seller: SellerConfig) -> dict[str, tuple[float, float]]:
    """(lead_time_days, safety_days) of each enabled warehouse of the seller: `suggest`'s `terms`."""
    return {wh.id: seller.stock.risk_terms(wh.id)[:2] for wh in seller.warehouses if wh.enabled}


def suggest(rows: Sequence[SkuRisk], forecasts: Mapping[tuple[str, str], Forecast],
            lanes: Sequence[TransferLane], terms: Mapping[str, tuple[float, float]]) -> list[Suggestion]:
    """Transfers for one seller: `rows` its risk rows, `forecasts` per (SKU, warehouse), `terms` per warehouse
    (lead_time_days, safety_days), for a destination that has no row of the SKU yet."""
    spots = {(r.seller_sku, r.warehouse): _Spot(available=r.available, lead=r.lead_time_days, safety=r.safety_days,
                                               fc=forecasts.get((r.seller_sku, r.warehouse), NO_DEMAND))
             for r in rows}
    moves: list[Suggestion] = []
    best: dict[tuple[int, str], tuple[tuple[float, float, int], int] | None] = {}  # (lane, SKU): (key, qty)

    def evaluate(i: int, sku: str) -> None:
        lane = lanes[i]
        source = spots.get((sku, lane.from_))
        if source is not None:
            best[(i, sku)] = _best_quantity(lane, source, _destination(spots, sku, lane.to, forecasts, terms))

    for sku, _wh in sorted(spots):
        for i in range(len(lanes)):
            evaluate(i, sku)
    for _ in range(MAX_ROUNDS):
        chosen, chosen_key = None, None
        for (i, sku), found in best.items():
            if found is not None and (chosen_key is None or found[0] > chosen_key):
                chosen, chosen_key = (i, sku, found[1]), found[0]
        if chosen is None:
            break
        i, sku, qty = chosen
        lane = lanes[i]
        source = spots[(sku, lane.from_)]
        destination = spots.setdefault((sku, lane.to), _destination(spots, sku, lane.to, forecasts, terms))
        moves.append(_move(lane, sku, qty, source, destination))
        touched = {lane.from_, lane.to}  # only candidates with an end here can have changed
        for j, other in enumerate(lanes):
            if other.from_ in touched or other.to in touched:
                evaluate(j, sku)
    return _merged(moves)


def _move(lane: TransferLane, sku: str, qty: int, source: _Spot, destination: _Spot) -> Suggestion:
    """Move `qty` on paper and say why, with both ends' risk before and after."""
    before = (source.probability(), destination.probability())
    from_why = (f"{source.available} available, keeps {source.need} for its own "
                f"{source.lead + source.safety:g} days (lead time + safety) at {source.fc.mean:.2f}/day")
    to_why = (f"{destination.available} available at {destination.fc.mean:.2f}/day: "
              f"{_cover(destination)} against a lead time of {destination.lead:g} days")
    source.available -= qty
    destination.arrivals.append((lane.days, qty))
    return Suggestion(seller_sku=sku, source=lane.from_, destination=lane.to, quantity=qty, days=lane.days,
                      cost=Decimal(str(lane.cost_per_unit)) * qty, source_before=before[0],
                      source_after=source.probability(), destination_before=before[1],
                      destination_after=destination.probability(), why_from=from_why, why_to=to_why)


def _destination(spots: Mapping[tuple[str, str], _Spot], sku: str, warehouse: str,
                 forecasts: Mapping[tuple[str, str], Forecast], terms: Mapping[str, tuple[float, float]]
                 ) -> _Spot | None:
    """The SKU at `warehouse`; one it holds none of (no row) starts empty; None: not an enabled warehouse."""
    spot = spots.get((sku, warehouse))
    if spot is None and warehouse in terms:
        lead, safety = terms[warehouse]
        spot = _Spot(available=0, fc=forecasts.get((sku, warehouse), NO_DEMAND), lead=lead, safety=safety)
    return spot


def _best_quantity(lane: TransferLane, source: _Spot, destination: _Spot | None
                   ) -> tuple[tuple[float, float, int], int] | None:
    """The candidate quantity along `lane` with the best (gain per cost, gain, fewer units); None: none gains."""
    spare = source.available - source.need
    if (destination is None or spare <= 0 or lane.to == lane.from_ or lane.days >= destination.lead
            or destination.fc.mean <= 0):
        return None
    p_source, p_destination = source.probability(), destination.probability()
    found = None
    for qty in _quantities(destination, spare):
        gain = (p_source + p_destination - source.probability(source.available - qty)
                - destination.probability(arriving=(lane.days, qty)))
        if gain < MIN_GAIN:
            continue
        cost = qty * lane.cost_per_unit
        key = (gain / cost if cost > 0 else math.inf, gain, -qty)
        if found is None or key > found[0]:
            found = (key, qty)
    return found


def _quantities(destination: _Spot, spare: int) -> list[int]:
    """A few candidate quantities: the destination's shortfall to its need (its demand over lead time and
    safety days) and fractions of it, as far as the source can spare them. Never more than the shortfall:
    past its need a destination's risk still falls a little with every unit, and chasing that tail would
    empty the source into it."""
    short = destination.need - destination.available - sum(q for _, q in destination.arrivals)
    if short <= 0:
        return []
    return sorted({min(math.ceil(short * f), spare) for f in (0.25, 0.5, 0.75, 1.0)} - {0})


def _cover(spot: _Spot) -> str:
    have = spot.available + sum(q for _, q in spot.arrivals)
    return "no demand" if spot.fc.mean <= 0 else f"{have / spot.fc.mean:.1f} days of cover"


def _merged(moves: list[Suggestion]) -> list[Suggestion]:
    """Rounds that moved the same SKU along the same lane as one line: the first's before, the last's after."""
    merged: dict[tuple[str, str, str], Suggestion] = {}
    for m in moves:
        key = (m.seller_sku, m.source, m.destination)
        first = merged.get(key)
        merged[key] = m if first is None else msgspec.structs.replace(
            first, quantity=first.quantity + m.quantity, cost=first.cost + m.cost, source_after=m.source_after,
            destination_after=m.destination_after)
    return list(merged.values())


def total_probability(rows: Sequence[SkuRisk]) -> float:
    """The sum the suggestions lower: the expected number of (SKU, warehouse) stock-outs."""
    return sum(r.probability for r in rows)
