"""Versioned schema changes of the archive, applied in code: no alembic.ini, nothing to find on disk.

`upgrade` brings a database to the newest revision under migrations/versions/ and is safe to run
from several processes at once (a worker starting while `orderhub db upgrade` runs): on PostgreSQL the
migrations run in one transaction under a transaction-level advisory lock, so a second caller waits
and then finds nothing left to do; on SQLite the write lock taken at BEGIN does the same. Both
databases run DDL inside the transaction, so a failed migration leaves the schema as it was.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.engine import URL

from pipeline.archive.engine import create_archive_engine, describe, writing

if TYPE_CHECKING:
    from alembic.config import Config

log = structlog.get_logger()
# Alembic narrates every import and run at INFO (plugin set-up, DDL mode, each revision); `archive.migrated`
# says what changed in one line, so only its warnings and errors go to the log. Alembic itself is imported
# inside the functions, after this, which also spares every process that only reads or writes it.
logging.getLogger("alembic").setLevel(logging.WARNING)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "archive_version"
"""Alembic's record of the applied revision (named for the archive: the database may hold other schemas)."""
_LOCK_ID = 0x0AC41BE  # pg_advisory_xact_lock key of archive migrations ("archive"): any constant of ours


def alembic_config() -> Config:
    """The Alembic configuration, built in code (env.py reads the connection from its attributes)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_table", VERSION_TABLE)
    return config


def head() -> str:
    """The newest revision the code knows."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if revision is None:
        raise RuntimeError(f"no migration under {MIGRATIONS / 'versions'}")
    return revision


def current(target: Engine | str | URL) -> str | None:
    """The revision the database is at (None: never migrated)."""
    engine, own = _engine(target)
    try:
        with engine.connect() as conn:
            return _revision(conn)
    finally:
        if own:
            engine.dispose()


def upgrade(target: Engine | str | URL, revision: str = "head") -> str | None:
    """Apply every migration up to `revision`; returns the revision the database is at afterwards."""
    from alembic import command

    engine, own = _engine(target)
    try:
        with writing(engine) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(_LOCK_ID)))
            before = _revision(conn)
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            after = _revision(conn)
        if after != before:
            log.info("archive.migrated", database=describe(engine.url), before=before, after=after)
        return after
    finally:
        if own:
            engine.dispose()


def _engine(target: Engine | str | URL) -> tuple[Engine, bool]:
    """The engine to use, and whether it was made here (and is to be disposed of here)."""
    if isinstance(target, Engine):
        return target, False
    return create_archive_engine(target), True


def _revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()
