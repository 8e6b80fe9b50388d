"""`orderhub config`: ops check a seller config before deploying it, with every problem at once.

Named config_cmds, not config, so it never shadows the top-level `config` package."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from config.loader import check_file, load_sellers, seller_files
from orderhub.runtime.settings import config_path
from pipeline.errors import ConfigError


@click.group("config")
def config_group() -> None:
    """Seller config files."""


@config_group.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
def config_check(path: Path | None) -> None:
    """Validate seller config (a file or a folder); print every problem, exit 1 if any."""
    target = path or config_path()
    files = seller_files(target)
    if not files or not all(f.exists() for f in files):
        click.echo(f"{target}: no seller config files found", err=True)
        sys.exit(1)
    problems: list[str] = []
    for file in files:
        problems.extend(check_file(file)[1])
    if not problems:
        try:
            load_sellers(target)  # cross-file rules (a seller declared twice)
        except ConfigError as exc:
            problems = exc.problems
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        click.echo(f"{len(problems)} problem(s) in {len(files)} file(s)", err=True)
        sys.exit(1)
    click.echo(f"ok: {len(files)} seller file(s) valid")
