"""The end of the demo's summary: what the decision layer makes of the orders the demo just moved, the
three riskiest SKUs and the best transfer, as `orderhub stock risk` and `stock rebalance` would say it.

So that there is something to say, the demo starts one SKU short in Germany (`SHORTAGE`): a fast seller
of the globex book with a few units at 4PX Frankfurt and the usual 200 at ShipBob UK, one road lane away.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import click

from config.schema import SellerConfig
from pipeline.store import OrderStore

SHORTAGE = ("fourpx", "DEFRA01", "OH-MFP", 12)
"""(emulator, its warehouse code, seller SKU, units on hand at the start)."""


def start_short(emulators: dict) -> None:
    name, warehouse, sku, units = SHORTAGE
    emulators[name].set_stock(warehouse, sku, units)


def decision_summary(store: OrderStore, sellers: Sequence[SellerConfig]) -> None:
    """Print the three SKUs most at risk of running out (all sellers) and the first transfer suggested."""
    from pipeline.decisions.assess import assess_seller
    from pipeline.decisions.rebalance import suggest, transfer_terms
    from pipeline.decisions.risk import ranked
    from pipeline.model import utc_now

    today = utc_now().date()
    assessed = [(cfg, assess_seller(cfg, store, None, today)) for cfg in sellers]
    riskiest = ranked([row for _, one in assessed for row in one.rows])[:3]
    click.echo("  stock-out risk, the three riskiest (orderhub stock risk):")
    for r in riskiest:
        cover = "no sales" if math.isinf(r.days_of_cover) else f"{r.days_of_cover:.1f} days of cover"
        click.echo(f"    {r.seller} {r.seller_sku} at {r.warehouse}: {r.available} available, {r.mean_daily:.2f}/day, "
                   f"{cover}, {r.probability:.0%} likely to run out within {r.lead_time_days:g} days")
    for cfg, one in assessed:
        moves = suggest(one.rows, one.forecasts, cfg.transfer_lanes, transfer_terms(cfg))
        if moves:
            m = moves[0]
            click.echo(f"  a transfer to consider (orderhub stock rebalance --seller {cfg.seller}): {m.quantity} x "
                       f"{m.seller_sku} {m.source} -> {m.destination} ({m.days:g} days, cost {m.cost}); risk at "
                       f"{m.destination} {m.destination_before:.0%} -> {m.destination_after:.0%}")
            return
    click.echo("  a transfer to consider: none lowers the risk")
