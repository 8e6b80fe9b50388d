"""The `orderhub` command: what ops run to check config, look at orders and see the state of things.

Each subcommand is a thin shell over pipeline/config functions; output is plain text for people.
Buyer PII is masked unless `--pii` is given; a Redis that is down or silent is one line and exit 2
(common.OrderhubGroup).

This module only assembles the command: each command group lives in its own module so that no
one file grows past reading size, and the submodules never import this one (no cycles).
"""

from __future__ import annotations

import click

from orderhub.cli.archive_cmds import archive_group
from orderhub.cli.common import OrderhubGroup
from orderhub.cli.config_cmds import config_group
from orderhub.cli.db import db_group
from orderhub.cli.demo_cmd import demo
from orderhub.cli.holds import holds_group
from orderhub.cli.metrics_cmds import metrics_group
from orderhub.cli.normalize import normalize
from orderhub.cli.orders import order_group
from orderhub.cli.routing import routing_group
from orderhub.cli.sandbox_cmds import sandbox_group
from orderhub.cli.status import status
from orderhub.cli.stock import stock_group
from orderhub.cli.sync import sync_group
from orderhub.cli.webhooks import webhooks_group
from orderhub.runtime.logs import ensure_logging

__all__ = ["main"]


@click.group(cls=OrderhubGroup)
def main() -> None:
    """Orderhub: marketplace orders to overseas warehouses, and tracking and stock back."""
    ensure_logging()


for _command in (config_group, order_group, status, sandbox_group, normalize, webhooks_group, sync_group,
                 holds_group, stock_group, demo, metrics_group, db_group, archive_group, routing_group):
    main.add_command(_command)
del _command
