"""`orderhub status`: the one screen ops read first to see whether orders are flowing (queues,
sync lag, throttles, config problems, holds) before digging into a single order."""

from __future__ import annotations

import click

from orderhub.cli.common import open_store
from pipeline import keys


@click.command("status")
def status() -> None:
    """Orders per seller, platform and state; holds per reason; queues, sync lag, throttles; seller
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
    for seller in sellers:
        click.echo(f"seller {seller}")
        counts = store.status_counts(seller)
        for (platform, state), n in sorted(counts.items()):
            click.echo(f"  {platform:<11} {state:<18} {n:>8}")
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
