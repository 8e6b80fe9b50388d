"""`orderhub db`: the order archive's database, which a deploy migrates before workers use it.

The archive is `ORDERHUB_DATABASE_URL` (PostgreSQL) or, unset, a SQLite file in the Orderhub home
(pipeline/archive/engine.py). `upgrade` is safe to repeat and to run beside starting workers (they
wait on the same lock); a database that cannot be reached is one line naming it (password hidden)
and exit 2, as a Redis that cannot be reached is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from orderhub.runtime.logs import MASK, scrub_text

if TYPE_CHECKING:
    from sqlalchemy import Engine


@click.group("db")
def db_group() -> None:
    """The order archive's database (ORDERHUB_DATABASE_URL, else SQLite in the Orderhub home)."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply the archive's migrations up to the newest; prints the revision before and after."""
    from pipeline import archive

    url = archive.database_url()
    shown = archive.describe(url)
    with _database_trouble(url):
        engine = archive.create_archive_engine(url)
        try:
            before = archive.current(engine)
            after = archive.upgrade(engine)
        finally:
            engine.dispose()
    if before == after:
        click.echo(f"archive {shown}: at revision {after}, nothing to apply")
    else:
        click.echo(f"archive {shown}: revision {before or 'none (empty)'} -> {after}")


@db_group.command("current")
def db_current() -> None:
    """The revision the archive is at, and the newest this code knows."""
    from pipeline import archive

    url = archive.database_url()
    with _database_trouble(url):
        engine = archive.create_archive_engine(url)
        try:
            revision = archive.current(engine)
        finally:
            engine.dispose()
    newest = archive.head()
    state = "up to date" if revision == newest else "behind: run `orderhub db upgrade`"
    click.echo(f"archive {archive.describe(url)}: revision {revision or 'none (empty)'}, newest {newest} ({state})")


@contextmanager
def _database_trouble(url: str) -> Iterator[None]:
    """A database that cannot be reached (or, for SQLite, whose file cannot be made) ends the command
    with one line and exit 2."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    from pipeline.archive import describe

    try:
        yield
    except (OperationalError, InterfaceError, OSError) as exc:
        click.echo(f"orderhub: database at {describe(url)} is unreachable ({database_reason(url, exc)}); check that "
                   "it runs and that ORDERHUB_DATABASE_URL names it", err=True)
        raise click.exceptions.Exit(2) from exc


def database_reason(url: str, exc: BaseException) -> str:
    """The database error's own first line, short, with the URL's password and every registered secret cut out."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    text = (str(cause).strip().splitlines() or [type(cause).__name__])[0][:200]
    password = make_url(url).password
    if password:
        text = text.replace(str(password), MASK)
    return scrub_text(text) or type(cause).__name__


def open_archive(url: str) -> Engine | None:
    """An engine on the archive for a read-only command (the caller disposes of it), or None when there is
    no archive yet: a SQLite file never made (opening it would make it), or a database never migrated."""
    from sqlalchemy import inspect

    from pipeline.archive import create_archive_engine, schema
    from pipeline.archive.engine import normalized

    target = normalized(url)
    database = target.database or ""
    if target.get_backend_name() == "sqlite" and database not in ("", ":memory:") \
            and not database.startswith("file:") and not Path(database).exists():
        return None
    engine = create_archive_engine(target)
    try:
        if inspect(engine).has_table(schema.orders.name):
            return engine
    except BaseException:
        engine.dispose()
        raise
    engine.dispose()
    return None
