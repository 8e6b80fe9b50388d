"""`orderhub metrics`: the process Prometheus scrapes, so alerts see what `orderhub status` shows.

Named metrics_cmds, not metrics, so it is not mistaken for `orderhub.metrics`, the collector."""

from __future__ import annotations

import click

from orderhub.cli.common import open_store


@click.group("metrics")
def metrics_group() -> None:
    """Prometheus metrics."""


@metrics_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9108, show_default=True, type=int)
def metrics_serve(host: str, port: int) -> None:
    """Expose /metrics for Prometheus (counts read from Redis at each scrape; the archive's figures and the
    stock-out risk every 5 minutes)."""
    import threading

    from prometheus_client import REGISTRY, start_http_server

    from orderhub.metrics import ArchiveFigures, RedisCollector, StockRiskFigures
    from pipeline.archive import database_url
    from workers.config_cache import all_sellers

    store, url = open_store(), database_url()
    risk = StockRiskFigures(lambda: all_sellers().values(), url)
    REGISTRY.register(RedisCollector(store.redis, store.prefix, ArchiveFigures(url), risk=risk))
    start_http_server(port, addr=host)
    click.echo(f"metrics on http://{host}:{port}/metrics")
    threading.Event().wait()
