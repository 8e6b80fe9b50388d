"""`orderhub sync`: ops force a sync now, e.g. after renewing a shop's credentials, instead of
waiting for the schedule (and for the auth-failed mark to be cleared)."""

from __future__ import annotations

import click

from orderhub.cli.common import cli_redis
from orderhub.runtime.settings import key_prefix
from pipeline import shop_health


@click.group("sync")
def sync_group() -> None:
    """Order sync."""


@sync_group.command("now")
@click.option("--seller", required=True)
@click.option("--shop", "shop_id", help="One shop (default: every enabled shop of the seller).")
def sync_now(seller: str, shop_id: str | None) -> None:
    """Enqueue a sync now (and clear an earlier authentication failure of those shops)."""
    from workers.config_cache import seller_config
    from workers.tasks import sync_shop

    cfg = seller_config(seller)
    shops = [cfg.shop(shop_id)] if shop_id else [s for s in cfg.shops if s.enabled]
    client = cli_redis()
    for shop in shops:
        shop_health.clear_auth_failed(client, key_prefix(), seller, shop.shop_id)
        sync_shop.apply_async((seller, shop.shop_id), queue="ingest")
        click.echo(f"sync enqueued: {seller} {shop.shop_id}")
