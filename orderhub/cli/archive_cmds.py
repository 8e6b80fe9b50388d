"""`orderhub archive`: move closed orders out of Redis into the archive now, and drop old archived ones.

`run` does what the hourly `archive_closed` task does (pipeline/archive/move.py: the move, then the
scrub of buyer data past `retention.pii_days`), under the same per-seller lease, showing its progress
after each batch; `prune` deletes archived orders closed longer
ago than each seller's `retention.archive_days`, or than `--older-than` days. The archive is the one
`orderhub db` names; a database that cannot be reached is one line and exit 2.
"""

from __future__ import annotations

from datetime import timedelta

import click

from orderhub.cli.common import configured_sellers, open_store
from orderhub.cli.db import _database_trouble


@click.group("archive")
def archive_group() -> None:
    """Closed orders: out of Redis into the archive, and out of the archive after years."""


@archive_group.command("run")
@click.option("--seller", help="Only this seller.")
def archive_run(seller: str | None) -> None:
    """Move every closed order older than the seller's retention.hot_days to the archive now."""
    from pipeline import archive, keys
    from pipeline.archive.move import MoveReport, archive_seller
    from pipeline.locks import live_lease

    store = open_store()
    url = archive.database_url()

    def show(report: MoveReport) -> None:
        click.echo(f"  {report.seller}: {report.looked_at} looked at, {report.archived} archived, "
                   f"{report.open} still open, {report.changed} changed meanwhile")

    with _database_trouble(url):
        engine = archive.create_archive_engine(url)
        try:
            for cfg in configured_sellers(seller):
                with live_lease(store.redis, keys.archive_lock(store.prefix, cfg.seller)) as held:
                    if not held:
                        click.echo(f"{cfg.seller}: a move is running already (the hourly task); skipped")
                        continue
                    click.echo(f"{cfg.seller}: moving orders closed more than {cfg.retention.hot_days} days ago")
                    report = archive_seller(store, engine, cfg, progress=show)
                click.echo(f"{cfg.seller}: {report.archived} archived, {report.open} still open, "
                           f"{report.changed} changed meanwhile, {report.unarchivable} never mapped; buyer data "
                           f"scrubbed from {report.scrubbed} closed more than {cfg.retention.pii_days} days ago")
        finally:
            engine.dispose()


@archive_group.command("prune")
@click.option("--older-than", "days", type=click.IntRange(min=1), default=None,
              help="Closed more than DAYS ago (default: each seller's retention.archive_days, 730 unset).")
@click.option("--seller", help="Only this seller.")
def archive_prune(days: int | None, seller: str | None) -> None:
    """Delete archived orders closed longer ago than the horizon; stock snapshots are kept."""
    from pipeline import archive
    from pipeline.archive.writer import prune_orders
    from pipeline.model import utc_now

    now, url = utc_now(), archive.database_url()
    with _database_trouble(url):
        engine = archive.create_archive_engine(url)
        try:
            if days is not None and seller is None:
                pruned = prune_orders(engine, now - timedelta(days=days))
                click.echo(f"archive: {pruned} orders closed more than {days} days ago deleted")
                return
            for cfg in configured_sellers(seller):
                horizon = days if days is not None else cfg.retention.archive_days
                pruned = prune_orders(engine, now - timedelta(days=horizon), cfg.seller)
                click.echo(f"{cfg.seller}: {pruned} orders closed more than {horizon} days ago deleted")
        finally:
            engine.dispose()
