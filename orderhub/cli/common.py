"""Helpers more than one command group needs, kept apart so the group modules share them without
importing one another or the package that assembles them."""

from __future__ import annotations

import click

from config.schema import SellerConfig
from orderhub.runtime.redisconn import get_redis
from orderhub.runtime.settings import key_prefix
from pipeline.store import OrderStore


def open_store() -> OrderStore:
    """The order store every read-only command looks at, on the configured Redis and prefix."""
    return OrderStore(get_redis(), key_prefix())


def configured_sellers(seller: str | None) -> list[SellerConfig]:
    """The config of `seller`, or of every seller without one; an unknown seller is a usage error."""
    from workers.config_cache import all_sellers

    configs = all_sellers()
    if seller and seller not in configs:
        raise click.BadParameter(f"no seller {seller!r} (known: {', '.join(sorted(configs))})", param_hint="--seller")
    return [configs[seller]] if seller else list(configs.values())
