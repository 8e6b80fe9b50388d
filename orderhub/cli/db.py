"""`orderhub db`: the order archive's database, which a deploy migrates before workers use it.

The archive is `ORDERHUB_DATABASE_URL` (PostgreSQL) or, unset, a SQLite file in the Orderhub home
(pipeline/archive/engine.py). `upgrade` is safe to repeat and to run beside starting workers (they
wait on the same lock); a database that cannot be reached is one line naming it (password hidden)
and exit 2, as a Redis that cannot be reached is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

import click

from orderhub.runtime.logs import MASK, scrub_text

if TYPE_CHECKING:
    from sqlalchemy import Engine

T = TypeVar("T")


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


class ArchiveReads:
    """Read-only queries on the archive for a command that shows both tiers: the archive is opened on the
    first query; one that cannot be read is said once, on one line naming what is left out, and every
    later query answers None (no archive yet: None, nothing said)."""

    def __init__(self, left_out: str) -> None:
        from pipeline.archive import database_url

        self.url, self.left_out = database_url(), left_out
        self.engine: Engine | None = None
        self.failed = False

    def __call__(self, query: Callable[..., T], *args: object) -> T | None:
        """`query(engine, *args)`, or None when there is no archive to ask."""
        from sqlalchemy.exc import SQLAlchemyError

        from pipeline.archive.engine import open_existing

        if self.failed:
            return None
        try:
            if self.engine is None:
                self.engine = open_existing(self.url)
                if self.engine is None:
                    self.failed = True  # no archive yet: nothing archived
                    return None
            return query(self.engine, *args)
        except (SQLAlchemyError, OSError) as exc:
            from pipeline.archive import describe

            self.failed = True
            click.echo(f"  archive at {describe(self.url)} unreachable ({database_reason(self.url, exc)}): "
                       f"{self.left_out}")
            return None

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()
