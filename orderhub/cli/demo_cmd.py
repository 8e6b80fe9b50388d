"""`orderhub demo`: one command that shows the whole pipeline working against the sandbox.

Named demo_cmd, not demo, so it is not mistaken for `orderhub.demo`, which does the work."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from orderhub.runtime.settings import config_path


@click.command("demo")
@click.option("--orders", default=60, show_default=True, help="Orders each platform emulator generates.")
@click.option("--seed", default=7, show_default=True, help="Seed of the order generator.")
@click.option("--max-seconds", default=300.0, show_default=True, help="Give up (exit 1) after this long.")
@click.option("--config", "config", type=click.Path(exists=True, path_type=Path), default=None,
              help="Seller config (default: config/sellers, the demo sellers).")
def demo(orders: int, seed: int, max_seconds: float, config: Path | None) -> None:
    """Run the whole pipeline against the sandbox until it is quiet, then print a summary."""
    from orderhub.demo import run_demo

    sys.exit(run_demo(orders, seed, max_seconds, config or config_path()))
