"""`orderhub status`: the one screen ops read first to see whether orders are flowing (queues,
sync lag, throttles, config problems, holds, orders archived) before digging into a single order."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from orderhub.cli.common import open_store
from orderhub.cli.db import database_reason, open_archive
from pipeline import keys
from pipeline.store import OrderStore

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy import Engine


@click.command("status")
def status() -> None:
    """Orders per seller, platform and state, and archived; holds per reason; queues, sync lag, throttles; seller
    config files with problems (their sellers, or shops, are not running)."""
    from connectors.ratelimit import RateLimiter
    from pipeline.model import utc_now
    from workers.app import QUEUES

    store = open_store()
    now = utc_now()
    depths = {q: store.redis.llen(q) for q in QUEUES}
    click.echo("queues: " + ", ".join(f"{q} {n}" for q, n in depths.items())
               + f", unacked {store.redis.hlen('unacked')}")
    throttles = RateLimiter(store.redis, store.prefix).throttle_counts()
    if throttles:
        click.echo("throttled calls: " + ", ".join(f"{k} {n}" for k, n in sorted(throttles.items())))
    _config_problems()
    sellers = store.sellers()
    if not sellers:
        click.echo("no orders stored yet")
        return
    archived = _ArchiveCounts()
    try:
        for seller in sellers:
            click.echo(f"seller {seller}")
            counts = store.status_counts(seller)
            for (platform, state), n in sorted(counts.items()):
                click.echo(f"  {platform:<11} {state:<18} {n:>8}")
            in_archive = archived.of(seller)
            if in_archive is not None:
                click.echo(f"  {'archived':<30} {in_archive:>8}")
            _hot_details(store, seller, now)
    finally:
        archived.close()


def _hot_details(store: OrderStore, seller: str, now: datetime) -> None:
    """Sync lag per shop, the oldest order not yet at a warehouse, holds per reason (Redis only: archived
    orders are closed, never held)."""
    for key in sorted(store.redis.scan_iter(match=keys.cursor_pattern(store.prefix, seller, "orders"))):
        shop = keys.cursor_owner(store.prefix, seller, "orders", key)
        cursor = store.cursor(seller, shop)
        lag = (now - cursor).total_seconds() if cursor else None
        click.echo(f"  sync {shop}: orders read up to {cursor:%Y-%m-%d %H:%M:%S}Z, lag {lag:.0f}s")
    oldest = store.oldest_unsubmitted(seller)
    if oldest:
        click.echo(f"  oldest READY not yet at a warehouse: {oldest[0]} (placed {oldest[1]:%Y-%m-%d %H:%M}Z)")
    holds = {r: held for r, held in store.holds(seller).items() if held}
    if holds:
        click.echo("  holds:")
        for reason, held in sorted(holds.items()):
            click.echo(f"    {reason.value:<26} {len(held):>8}")


def _config_problems() -> None:
    """Each seller file with a problem: the file, how many problems, the first (`orderhub config check`
    lists them all). Its seller is not running, or, for a shop configured twice, that shop is not."""
    from config.loader import load_config
    from orderhub.runtime.settings import config_path

    state = load_config(config_path())
    if not state.problems:
        return
    click.echo(f"config problems: {len(state.problems)} file(s) (orderhub config check lists every problem)")
    for file, found in state.problems.items():
        first = found[0].removeprefix(f"{file}: ")
        click.echo(f"  {file}: {len(found)} problem(s), first: {first}")


class _ArchiveCounts:
    """Archived orders per seller, one COUNT each; an archive that cannot be read is said once, on one
    line, and the counts are left out (no archive yet: none, nothing said)."""

    def __init__(self) -> None:
        from pipeline.archive import database_url

        self.url = database_url()
        self.engine: Engine | None = None
        self.failed = False

    def of(self, seller: str) -> int | None:
        from sqlalchemy.exc import SQLAlchemyError

        from pipeline.archive.reader import count_orders

        if self.failed:
            return None
        try:
            if self.engine is None:
                self.engine = open_archive(self.url)
                if self.engine is None:
                    self.failed = True  # no archive yet: nothing archived
                    return None
            return count_orders(self.engine, seller)
        except (SQLAlchemyError, OSError) as exc:
            from pipeline.archive import describe

            self.failed = True
            click.echo(f"  archive at {describe(self.url)} unreachable ({database_reason(self.url, exc)}): "
                       "archived orders not counted")
            return None

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
