"""`orderhub status`: the one screen ops read first to see whether orders are flowing (queues,
sync lag, throttles, config problems, holds, orders archived) before digging into a single order."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from orderhub.cli.common import open_store
from orderhub.cli.db import ArchiveReads
from pipeline import keys
from pipeline.store import OrderStore

if TYPE_CHECKING:
    from datetime import datetime

    from pipeline.model import HoldReason


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
    from pipeline.archive.reader import hold_counts, order_counts

    archive = ArchiveReads("archived orders and their holds not shown")
    try:
        archived_holds = archive(hold_counts) or {}
        archived = archive(order_counts)  # None: no archive to ask
        for seller in sellers:
            click.echo(f"seller {seller}")
            counts = store.status_counts(seller)
            for (platform, state), n in sorted(counts.items()):
                click.echo(f"  {platform:<11} {state:<18} {n:>8}")
            if archived is not None:
                click.echo(f"  {'archived':<30} {archived.get(seller, 0):>8}")
            _hot_details(store, seller, now)
            _holds(store, seller, {reason: n for (owner, reason), n in archived_holds.items() if owner == seller})
    finally:
        archive.close()


def _hot_details(store: OrderStore, seller: str, now: datetime) -> None:
    """Sync lag per shop, the oldest order not yet at a warehouse."""
    for key in sorted(store.redis.scan_iter(match=keys.cursor_pattern(store.prefix, seller, "orders"))):
        shop = keys.cursor_owner(store.prefix, seller, "orders", key)
        cursor = store.cursor(seller, shop)
        lag = (now - cursor).total_seconds() if cursor else None
        click.echo(f"  sync {shop}: orders read up to {cursor:%Y-%m-%d %H:%M:%S}Z, lag {lag:.0f}s")
    oldest = store.oldest_unsubmitted(seller)
    if oldest:
        click.echo(f"  oldest READY not yet at a warehouse: {oldest[0]} (placed {oldest[1]:%Y-%m-%d %H:%M}Z)")


def _holds(store: OrderStore, seller: str, archived: dict[HoldReason, int]) -> None:
    """Holds per reason over both tiers (an archived order is held only for a parcel that left for an
    address the buyer changed after archiving: pipeline/archive/late_address.py)."""
    hot = {reason: len(held) for reason, held in store.holds(seller).items() if held}
    if not hot and not archived:
        return
    click.echo("  holds:")
    for reason in sorted(hot.keys() | archived.keys()):
        in_archive = f"  ({archived[reason]} archived)" if reason in archived else ""
        click.echo(f"    {reason.value:<26} {hot.get(reason, 0) + archived.get(reason, 0):>8}{in_archive}")


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
