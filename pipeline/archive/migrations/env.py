"""Alembic's entry point for the archive: runs the migrations on the connection migrate.py hands over.

Called only through pipeline/archive/migrate.py, which puts an open connection, inside its
transaction and lock, in `config.attributes["connection"]`. Without one (Alembic's own command line,
e.g. `alembic -c <config> revision`), it connects to `sqlalchemy.url` or, failing that, to the
configured archive (pipeline/archive/engine.py). SQLite gets batch mode, since it alters a table only
by copying it. Offline SQL scripts are not supported: the archive is always migrated live.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from pipeline.archive.engine import create_archive_engine
from pipeline.archive.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=context.config.get_main_option("version_table") or "alembic_version",
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    if context.is_offline_mode():
        raise RuntimeError("the archive is migrated live: run `orderhub db upgrade`")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_archive_engine(context.config.get_main_option("sqlalchemy.url"))
    try:
        with engine.begin() as own:
            _run(own)
    finally:
        engine.dispose()


_main()
