"""Which warehouse ships an order: pure, so every decision can be explained and tested.

Eligible warehouses serve the destination country and have the capabilities the items need. One
warehouse holding every line wins over a split; a split happens only when the seller allows it.
Ties go to the lower priority number, then the lower cost hint, then the id. The decision says
why each warehouse was passed over, for `orderhub order show`.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from config.schema import SellerConfig, WarehouseConfig
from pipeline.model import Address, Hold, HoldReason, Order
from pipeline.stock import Allocation

# Fields a warehouse needs before it can label a parcel to that country.
POSTCODE_COUNTRIES = frozenset({"US", "CA", "GB", "DE", "FR", "JP", "MX", "ES", "IT", "NL", "BE", "AT", "PL", "AU"})
REGION_COUNTRIES = frozenset({"US", "CA", "MX", "AU", "JP"})


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    allocations: tuple[Allocation, ...] = ()
    hold: Hold | None = None
    passed_over: dict[str, str] = {}

    @property
    def routed(self) -> bool:
        return self.hold is None and bool(self.allocations)

    def explain(self) -> str:
        chosen = ", ".join(f"{a.warehouse} ({', '.join(f'{q} x {s}' for s, q in a.lines)})" for a in self.allocations)
        skipped = "; ".join(f"{wh}: {why}" for wh, why in sorted(self.passed_over.items()))
        return f"to {chosen}" + (f"; passed over {skipped}" if skipped else "")


def needed_units(order: Order) -> dict[str, int]:
    """Seller SKU → units still to ship (mapped orders only)."""
    needs: dict[str, int] = {}
    for line in order.lines:
        if line.open_quantity > 0 and line.seller_sku:
            needs[line.seller_sku] = needs.get(line.seller_sku, 0) + line.open_quantity
    return needs


def address_problem(address: Address | None) -> str | None:
    if address is None:
        return "no ship-to address yet (the platform has not released it)"
    if not (address.name and address.line1):
        # A warehouse ships with a name and a street line. A masked or missing phone is no reason to
        # hold: the warehouses take an order without one (the platform's relay number, where given).
        return "buyer name or street withheld by the platform (not released yet)"
    missing = [] if address.city else ["city"]
    if address.country in POSTCODE_COUNTRIES and not address.postal_code:
        missing.append("postal_code")
    if address.country in REGION_COUNTRIES and not address.region:
        missing.append("region")
    return f"address lacks {', '.join(missing)} required for {address.country}" if missing else None


def _order_key(wh: WarehouseConfig) -> tuple[int, float, str]:
    return (wh.priority, wh.cost_hint, wh.id)


def route(order: Order, seller: SellerConfig, available: Mapping[tuple[str, str], int],
          sku_capabilities: Mapping[str, list[str]] | None = None) -> Decision:
    """Decide for an order whose lines carry seller SKUs; `available` maps (warehouse, SKU) → units."""
    needs = needed_units(order)
    if not needs:
        return Decision()
    problem = address_problem(order.ship_to)
    if problem:
        return Decision(hold=Hold(HoldReason.ADDRESS_INCOMPLETE, problem))
    country = order.ship_to.country
    passed: dict[str, str] = {}
    candidates = []
    for wh in sorted(seller.warehouses, key=_order_key):
        if not wh.enabled:
            passed[wh.id] = "disabled"
        elif country not in wh.countries:
            passed[wh.id] = f"does not serve {country}"
        else:
            lacking = sorted({cap for sku in needs for cap in (sku_capabilities or {}).get(sku, [])
                              if cap not in wh.capabilities})
            if lacking:
                passed[wh.id] = f"lacks capability {', '.join(lacking)}"
            else:
                candidates.append(wh)
    if not candidates:
        served = "; ".join(f"{wh.id} serves {','.join(wh.countries)}" for wh in seller.warehouses) or "no warehouses"
        return Decision(hold=Hold(HoldReason.NO_WAREHOUSE_FOR_COUNTRY, f"no warehouse for {country} ({served})"),
                        passed_over=passed)

    for wh in candidates:
        short = [f"has {available.get((wh.id, sku), 0)} of {qty} {sku}" for sku, qty in needs.items()
                 if available.get((wh.id, sku), 0) < qty]
        if not short:
            return Decision(allocations=(Allocation(wh.id, tuple(sorted(needs.items()))),), passed_over=passed)
        passed[wh.id] = "; ".join(short)

    if seller.routing.allow_split:
        split = _split(needs, candidates, available)
        if split is not None:
            kept = {wh: why for wh, why in passed.items() if wh not in {a.warehouse for a in split}}
            return Decision(allocations=split, passed_over=kept)
    total = {sku: sum(available.get((wh.id, sku), 0) for wh in candidates) for sku in needs}
    short = ", ".join(f"{sku}: need {qty}, {total[sku]} free in {len(candidates)} warehouse(s)"
                      for sku, qty in needs.items() if total[sku] < qty) or "no single warehouse holds every line"
    return Decision(hold=Hold(HoldReason.INSUFFICIENT_STOCK, short), passed_over=passed)


def _split(needs: Mapping[str, int], candidates: list[WarehouseConfig],
           available: Mapping[tuple[str, str], int]) -> tuple[Allocation, ...] | None:
    """Fill each SKU from warehouses in preference order; None when the total falls short."""
    plan: dict[str, list[tuple[str, int]]] = {}
    for sku, qty in needs.items():
        left = qty
        for wh in candidates:
            take = min(left, available.get((wh.id, sku), 0))
            if take:
                plan.setdefault(wh.id, []).append((sku, take))
                left -= take
            if not left:
                break
        if left:
            return None
    return tuple(Allocation(wh.id, tuple(plan[wh.id])) for wh in candidates if wh.id in plan)
