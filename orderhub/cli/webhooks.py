"""`orderhub webhooks`: the process that receives platform pushes, so orders arrive between syncs."""

from __future__ import annotations

import click


@click.group("webhooks")
def webhooks_group() -> None:
    """Platform push notifications."""


@webhooks_group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
def webhooks_serve(host: str, port: int) -> None:
    """Receive pushes at POST /webhooks/{seller}/{shop_id}; bad signatures get 401."""
    from workers.webhooks import make_server

    server = make_server(host, port)
    click.echo(f"webhooks on http://{host}:{server.server_address[1]}/webhooks/{{seller}}/{{shop_id}}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
