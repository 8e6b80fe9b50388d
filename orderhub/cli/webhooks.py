"""`orderhub webhooks`: the process that receives platform pushes, so orders arrive between syncs."""

from __future__ import annotations

import click


@click.group("webhooks")
def webhooks_group() -> None:
    """Platform push notifications."""


@webhooks_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Bind address. Serve the internet through a TLS-terminating proxy (docs/security.md).")
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--max-connections", default=2000, show_default=True, type=click.IntRange(1),
              help="Open connections at most; more are closed at accept.")
@click.option("--header-timeout", default=10.0, show_default=True, type=click.FloatRange(0.1),
              help="Seconds a connection gets to send each request's headers.")
def webhooks_serve(host: str, port: int, max_connections: int, header_timeout: float) -> None:
    """Receive pushes at POST /webhooks/{seller}/{shop_id}; bad signatures get 401, a slow Redis 503."""
    from workers.ingress import serve

    def announce(bound: int) -> None:
        click.echo(f"webhooks on http://{host}:{bound}/webhooks/{{seller}}/{{shop_id}}")

    serve(host, port, max_connections=max_connections, header_timeout=header_timeout, announce=announce)
