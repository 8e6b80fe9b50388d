"""`orderhub config`: ops check a seller config before deploying it, with every problem at once.

Every file is checked on its own and then against the others (a seller declared twice, one platform
shop configured twice); warnings (a secrets file every user can read) are printed but do not fail.
Named config_cmds, not config, so it never shadows the top-level `config` package."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from config.loader import load_config
from orderhub.runtime.settings import config_path


@click.group("config")
def config_group() -> None:
    """Seller config files."""


@config_group.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def config_check(path: Path | None) -> None:
    """Validate seller config (a file or a folder); print every problem, exit 1 if any."""
    target = path or config_path()
    state = load_config(target)
    for warning in state.warnings:
        click.echo(f"warning: {warning}", err=True)
    problems = state.all_problems()
    if not state.files:
        click.echo(f"{target}: no seller config files found", err=True)
        sys.exit(1)
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        click.echo(f"{len(problems)} problem(s) in {len(state.problems)} of {state.files} file(s)", err=True)
        sys.exit(1)
    click.echo(f"ok: {state.files} seller file(s) valid" + (f", {len(state.warnings)} warning(s)" if state.warnings else ""))
