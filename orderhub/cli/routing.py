"""`orderhub routing whatif`: what a candidate seller config would have done to the last weeks' orders.

The candidate file is checked by the loader's own checks, as a production seller file is, with two
differences. Its `file:` credential references resolve from the production file's folder, so a copy of
the production file kept anywhere (a review branch, /tmp) checks as the original does. And a reference
that does not resolve (a variable not set, a secrets file not there: a warehouse not signed yet) is a
warning, not a problem: a what-if connects to nothing. An inline secret is still a problem. The replay
itself is pipeline/decisions/whatif.py; this command only reads (docs/routing-whatif.md).
"""

from __future__ import annotations

import contextlib
import re
import sys
from datetime import timedelta
from pathlib import Path

import click
import msgspec

from orderhub.cli.common import configured_sellers, open_store
from orderhub.cli.db import ArchiveReads

_SPAN = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def parse_span(text: str) -> timedelta:
    """`14d`, `36h`, `2w` as a timedelta; ValueError for anything else (or zero)."""
    match = _SPAN.match(text)
    if not match or int(match[1]) == 0:
        raise ValueError(f"{text!r} is not a period such as 14d, 36h or 2w")
    return int(match[1]) * _UNITS[match[2]]


def _assumed(pairs: tuple[str, ...]) -> dict[str, int]:
    """`--assume-stock WAREHOUSE=UNITS` options as {warehouse: units}."""
    assumed = {}
    for pair in pairs:
        warehouse, _, units = pair.partition("=")
        if not warehouse or not units.isdigit():
            raise click.BadParameter(f"{pair!r} is not WAREHOUSE=UNITS (e.g. 4px-us-nj=50)", param_hint="--assume-stock")
        assumed[warehouse] = int(units)
    return assumed


def _declared_seller(path: Path) -> str | None:
    import tomllib

    try:
        declared = tomllib.loads(path.read_text(encoding="utf-8")).get("seller")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return declared if isinstance(declared, str) and declared else None


@click.group("routing")
def routing_group() -> None:
    """Routing decisions: what a config change would have done."""


@routing_group.command("whatif")
@click.argument("candidate", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--seller", help="The seller (default: the one the candidate file declares).")
@click.option("--since", "span", default="14d", show_default=True,
              help="Replay the orders placed this long ago until now (14d, 36h, 2w).")
@click.option("--assume-stock", "assume", multiple=True, metavar="WAREHOUSE=UNITS",
              help="Units of every SKU a warehouse holds where it has no stock reading (one not stocked yet); "
                   "repeatable.")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON.")
def routing_whatif(candidate: Path, seller: str | None, span: str, assume: tuple[str, ...], as_json: bool) -> None:
    """Replay the seller's orders of the period through the router under CANDIDATE (a seller config file)
    and under the production config, on the stock as it stood, and print candidate - production: orders per
    warehouse, cross-border share, split rate, holds per reason, total cost_hint and ship-by misses, beside
    what production recorded. Reads only: nothing is reserved, held, written or sent."""
    from pipeline.decisions.replay_orders import archived_replay_orders
    from pipeline.decisions.replay_stock import snapshot_days
    from pipeline.decisions.whatif import run_what_if
    from pipeline.model import utc_now

    try:
        period = parse_span(span)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    assumed = _assumed(assume)
    name = seller or _declared_seller(candidate)
    if not name:
        raise click.BadParameter(f"{candidate} declares no seller: name it with --seller", param_hint="--seller")
    production = configured_sellers(name)[0]
    from config.loader import inspect_file

    report = inspect_file(candidate, base_dir=Path(production.source).parent, references_needed=False)
    config, problems, warnings = report.config, report.problems, report.warnings
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if config is None:
        for problem in problems:
            click.echo(problem, err=True)
        click.echo(f"{len(problems)} problem(s) in the candidate: nothing replayed", err=True)
        sys.exit(1)
    if config.seller != production.seller:
        raise click.BadParameter(f"{candidate} is the config of seller {config.seller!r}, not {production.seller!r}",
                                 param_hint="--seller")
    until = utc_now()
    since = until - period
    reads = ArchiveReads("archived orders and stock snapshots left out (Redis orders only, stock from the ledger)")
    # its one line on an unreadable archive must not break the JSON on stdout
    with contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext():
        try:
            archived = reads(archived_replay_orders, production.seller, since, until) or []
            snapshots = reads(snapshot_days, production.seller, since.date(), until.date()) or {}
        finally:
            reads.close()
    report = run_what_if(open_store(), archived, snapshots, production, config, since, until, assumed)
    if as_json:
        click.echo(msgspec.json.encode(report).decode())
        return
    from pipeline.decisions.whatif_report import render

    click.echo("\n".join(render(report, production.source, str(candidate))))
