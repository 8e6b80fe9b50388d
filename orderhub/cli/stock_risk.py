"""`orderhub stock risk` and `orderhub stock rebalance`: which SKU runs out where, and what to move
(docs/decisions.md). Both only read: demand from Redis and, when there is one, the archive; stock from
the ledger. Registered on `stock_group` by the import at the end of orderhub/cli/stock.py."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click
import orjson

from orderhub.cli.common import configured_sellers, open_store
from orderhub.cli.stock import stock_group

if TYPE_CHECKING:
    from config.schema import SellerConfig
    from orderhub.cli.db import ArchiveReads
    from pipeline.decisions.assess import Assessment
    from pipeline.decisions.risk import SkuRisk


@stock_group.command("risk")
@click.option("--seller", help="Only this seller.")
@click.option("--warehouse", help="Only this warehouse.")
@click.option("--at-risk", "at_risk_only", is_flag=True, help="Only SKUs above their risk threshold.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of the table.")
def stock_risk(seller: str | None, warehouse: str | None, at_risk_only: bool, as_json: bool) -> None:
    """Stock-out risk per SKU and warehouse, most at risk first: available (after reserved units and the
    safety buffer), mean daily demand of the last 8 weeks (lost demand included), days of cover, the
    expected stock-out day, and the probability of running out before a replenishment ordered now
    arrives (lead_time_days). RISK marks a probability above the warehouse's risk_threshold, REORDER a
    cover shorter than lead time plus safety days."""
    rows: list[SkuRisk] = []
    for _cfg, assessment in _assessments(seller, "demand from Redis only"):
        rows += [r for r in assessment.rows if (warehouse is None or r.warehouse == warehouse)
                 and (r.at_risk or not at_risk_only)]
    from pipeline.decisions.risk import ranked

    rows = ranked(rows)
    if as_json:
        click.echo(orjson.dumps([_risk_json(r) for r in rows], option=orjson.OPT_INDENT_2).decode())
        return
    if not rows:
        click.echo("no SKU at risk" if at_risk_only else "no stock and no demand to assess")
        return
    click.echo(f"{'seller':<10} {'sku':<18} {'warehouse':<14} {'avail':>6} {'per day':>8} {'cover d':>8} "
               f"{'out on':<10} {'P(out)':>7} {'thresh':>6}  flags")
    for r in rows:
        cover = "inf" if math.isinf(r.days_of_cover) else f"{r.days_of_cover:.1f}"
        flags = " ".join(f for f, on in (("RISK", r.at_risk), ("REORDER", r.reorder_now)) if on)
        click.echo(f"{r.seller:<10} {r.seller_sku:<18} {r.warehouse:<14} {r.available:>6} {r.mean_daily:>8.2f} "
                   f"{cover:>8} {str(r.stockout_date or '-'):<10} {r.probability:>7.1%} {r.threshold:>6.0%}  "
                   f"{flags}".rstrip())


@stock_group.command("rebalance")
@click.option("--seller", required=True, help="The seller whose warehouses to balance.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of text.")
def stock_rebalance(seller: str, as_json: bool) -> None:
    """Transfers along the seller's [[transfer_lanes]] that lower the total stock-out probability most per
    unit of cost, each explained: why from there, why to here, the risk at both ends before and after.
    Suggested only: nothing is moved."""
    from pipeline.decisions.rebalance import suggest, total_probability, transfer_terms

    for cfg, assessment in _assessments(seller, "demand from Redis only"):
        moves = suggest(assessment.rows, assessment.forecasts, cfg.transfer_lanes, transfer_terms(cfg))
        before = total_probability(assessment.rows)
        after = before - sum(m.source_before - m.source_after + m.destination_before - m.destination_after
                             for m in moves)
        if as_json:
            click.echo(orjson.dumps({"seller": cfg.seller, "total_probability_before": before,
                                     "total_probability_after": after, "suggestions": [
                                         {**{f: getattr(m, f) for f in m.__struct_fields__}, "cost": str(m.cost)}
                                         for m in moves]}, option=orjson.OPT_INDENT_2).decode())
            continue
        if not cfg.transfer_lanes:
            click.echo(f"{cfg.seller}: no [[transfer_lanes]] configured: nothing can be suggested")
            continue
        if not moves:
            click.echo(f"{cfg.seller}: no transfer lowers the stock-out risk (expected stock-outs {before:.2f})")
            continue
        click.echo(f"{cfg.seller}: expected stock-outs {before:.2f} -> {after:.2f} with {len(moves)} transfer(s) "
                   "(suggested only; nothing is moved)")
        for m in moves:
            click.echo(f"  {m.quantity} x {m.seller_sku}  {m.source} -> {m.destination}  arrives in {m.days:g} d, "
                       f"cost {m.cost}")
            click.echo(f"    risk at {m.destination}: {m.destination_before:.1%} -> {m.destination_after:.1%}; "
                       f"at {m.source}: {m.source_before:.1%} -> {m.source_after:.1%}")
            click.echo(f"    why from {m.source}: {m.why_from}")
            click.echo(f"    why to {m.destination}: {m.why_to}")


def _assessments(seller: str | None, left_out: str) -> list[tuple[SellerConfig, Assessment]]:
    from orderhub.cli.db import ArchiveReads
    from pipeline.decisions.assess import assess_seller
    from pipeline.model import utc_now

    store, reads = open_store(), ArchiveReads(left_out)
    today = utc_now().date()
    try:
        return [(cfg, assess_seller(cfg, store, _archive_query(reads), today)) for cfg in configured_sellers(seller)]
    finally:
        reads.close()


def _archive_query(reads: ArchiveReads):
    """demand_by_day through ArchiveReads: None once the archive is absent or unreadable (said once)."""
    from pipeline.archive.reader import demand_by_day

    def query(seller: str, since, until, only_keys: Sequence[str] | None):
        return reads(demand_by_day, seller, since, until, only_keys)

    return query


def _risk_json(r: SkuRisk) -> dict:
    row = {f: getattr(r, f) for f in r.__struct_fields__}
    row["days_of_cover"] = None if math.isinf(r.days_of_cover) else r.days_of_cover  # JSON has no Infinity
    row["stockout_date"] = r.stockout_date.isoformat() if r.stockout_date else None
    return row
