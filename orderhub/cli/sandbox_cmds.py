"""`orderhub sandbox`: run the platform and warehouse emulators locally and get the SKU maps that
match their listings, so the whole pipeline can be rehearsed without real accounts.

Named sandbox_cmds, not sandbox, so it never shadows the top-level `sandbox` package."""

from __future__ import annotations

import click

from orderhub.runtime.redisconn import get_redis
from orderhub.runtime.settings import key_prefix
from pipeline import keys


@click.group("sandbox")
def sandbox_group() -> None:
    """The local emulators of the platforms and warehouses."""


@sandbox_group.command("serve")
@click.option("--seed", default=1, show_default=True, help="Seed of the order generator.")
@click.option("--orders", default=200, show_default=True, help="Orders per emulator.")
@click.option("--platform", "platforms", multiple=True, help="Only these emulators (repeatable).")
def sandbox_serve(seed: int, orders: int, platforms: tuple[str, ...]) -> None:
    """Run the emulators on loopback until Ctrl-C; their URLs are printed and registered in Redis."""
    import signal
    import threading

    from sandbox import EMULATORS, start_emulators

    emulators = start_emulators(platforms or tuple(EMULATORS), seed=seed, orders=orders)
    client = get_redis()
    key = keys.sandbox_endpoints(key_prefix())
    client.hset(key, mapping={name: emu.url for name, emu in emulators.items()})
    for name, emulator in emulators.items():
        click.echo(f"{name:<11} {emulator.url}  (control: {emulator.url}/_sandbox/)")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        client.hdel(key, *emulators)
        for emulator in emulators.values():
            emulator.stop()


@sandbox_group.command("listings")
@click.argument("platform")
@click.option("--account", help="The emulator shop whose ids to print (TEMU: a LOCAL mall id).")
def sandbox_listings(platform: str, account: str | None) -> None:
    """Print the SKU map (TOML) that ties the sandbox's listings of PLATFORM to seller SKUs, with the
    platform ids its stock API needs: paste it into a seller file to rehearse stock sync."""
    from sandbox.serve import MARKETPLACES

    if platform not in MARKETPLACES:
        raise click.BadParameter(f"no sandbox marketplace {platform!r}", param_hint="PLATFORM")
    rows = MARKETPLACES[platform]().stock_listings(account)
    click.echo(f"[sku_map.platforms.{platform}]")
    for row in rows:
        click.echo(f'"{row["platform_sku"]}" = "{row["seller_sku"]}"')
    if any(row["listing_id"] for row in rows):
        click.echo(f"[sku_map.listings.{platform}]")
        for row in rows:
            if row["listing_id"]:
                click.echo(f'"{row["platform_sku"]}" = "{row["listing_id"]}"')
