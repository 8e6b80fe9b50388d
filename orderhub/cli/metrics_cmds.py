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
    """Expose /metrics for Prometheus (counts read from Redis at each scrape)."""
    import threading

    from prometheus_client import REGISTRY, start_http_server

    from orderhub.metrics import RedisCollector

    store = open_store()
    REGISTRY.register(RedisCollector(store.redis, store.prefix))
    start_http_server(port, addr=host)
    click.echo(f"metrics on http://{host}:{port}/metrics")
    threading.Event().wait()
