"""`orderhub stock`: when a platform shows a stock number a seller did not expect, this explains
how it was computed (warehouse totals, buffer, share, clamps) and whether the platform refused it."""

from __future__ import annotations

import sys

import click

from orderhub.cli.common import configured_sellers, open_store


@click.group("stock")
def stock_group() -> None:
    """What each platform is told about stock, and why."""


@stock_group.command("show")
@click.argument("sku")
@click.option("--seller", help="Only this seller.")
def stock_show(sku: str, seller: str | None) -> None:
    """Explain the number pushed for seller SKU `SKU` (or the platform SKU mapped to it) to every platform shop: on hand, shipped and
    reserved per warehouse (and shipments too close to the last report to know whether it counted
    them), the buffer, the share and the clamps, what was last pushed, and for a listing whose last push
    was refused, the platform's reason and when the number is tried again."""
    from connectors.registry import get_connector
    from pipeline.model import utc_now
    from pipeline.ports import StockPush
    from pipeline.stock import StockLedger
    from pipeline.stock_refusals import read_refusals
    from pipeline.stock_sync import plan

    store = open_store()
    ledger = StockLedger(store.redis, store.prefix)
    now = utc_now()
    found = False
    asked = sku
    for cfg in configured_sellers(seller):
        named = cfg.sku_map.explicit()  # what ops see in a platform's refusal is the platform SKU
        sku = named.get(asked, asked)
        rows = []
        for wh in cfg.warehouses:
            row = ledger.totals(cfg.seller, wh.id).get(sku)
            if row is not None:
                available = ledger.view(cfg.seller, [(wh.id, sku)])[(wh.id, sku)]
                rows.append(f"    {wh.id:<16} on hand {row['on_hand']:>6}  shipped since {row['shipped']:>5}  "
                            f"in doubt {row['in_doubt']:>4}  reserved {row['reserved']:>5}  available {available:>6}")
        if not rows and sku not in named.values():
            continue  # no warehouse holds it and the seller's map never names it: not this seller's SKU
        listings = []
        for shop in cfg.shops:
            if not shop.enabled:
                continue
            needs = get_connector(shop.platform).capabilities.stock_needs_listing
            planned = plan(cfg, shop, ledger, store.redis, store.prefix, only={sku}, needs_listing_id=needs)
            refusals = read_refusals(store.redis, store.prefix, cfg.seller, shop.shop_id,
                                     [p.listing.platform_sku for p in planned])
            for p in planned:
                push = StockPush(p.listing.platform_sku, p.availability.quantity, p.listing.listing_id)
                refusal = refusals.get(push.platform_sku)
                last = "never" if p.last_pushed is None else str(p.last_pushed)
                flag = "" if not p.changed else "  (changed: pushed at the next sync)"
                if p.changed and refusal is not None and refusal.waiting(push, now):
                    flag = "  (changed, but refused: see below)"
                listings.append(f"    {shop.shop_id:<22} {p.listing.platform_sku:<20} {p.availability.explain()}  "
                                f"last pushed {last}{flag}")
                if refusal is not None and p.changed:  # unchanged: the platform shows it; the next sync forgets it
                    listings.extend(f"      {line}" for line in refusal.explain(push, now))
        found = True
        click.echo(f"{cfg.seller}  {sku}" + (f" (platform SKU {asked})" if asked != sku else ""))
        click.echo("  warehouses:")
        click.echo("\n".join(rows) if rows else "    (no warehouse reports this SKU)")
        click.echo("  platforms (shop, platform SKU, computation, last pushed):")
        click.echo("\n".join(listings) if listings else "    (no listing of this SKU)")
    if not found:
        click.echo(f"no seller knows SKU {asked!r}", err=True)
        sys.exit(1)


import orderhub.cli.stock_risk  # noqa: E402, F401 (registers `stock risk` and `stock rebalance` on stock_group)
