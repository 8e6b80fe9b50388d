"""Which database holds the archive, and the engine that talks to it.

`ORDERHUB_DATABASE_URL` names it in production (PostgreSQL: `postgresql+psycopg://user@host/db`; a bare
`postgresql://` is read as psycopg 3, the one driver installed). Unset, the archive is a SQLite file in
the Orderhub home (`$ORDERHUB_HOME`, default `./.orderhub/`, where the embedded Redis lives), so the demo
and the tests need nothing installed. It holds buyer addresses and raw payloads, so the file is created
0600 in the private home (SQLite gives its WAL and shared-memory files the database file's mode).

SQLite runs in WAL mode with foreign keys on, and with its transactions under SQLAlchemy's control
(the sqlite3 module's legacy mode would run DDL outside any transaction, so a failed migration could
leave half a schema). A connection that is to write asks for `writing`, which on SQLite takes the write
lock at BEGIN (BEGIN IMMEDIATE): two writers then queue on the busy timeout instead of one failing with
"database is locked" when it upgrades a read lock; on PostgreSQL it is an ordinary transaction.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from orderhub.runtime.redisconn import PRIVATE_FILE, data_dir, seal

URL_VARIABLE = "ORDERHUB_DATABASE_URL"
SQLITE_FILE = "archive.sqlite3"
BUSY_TIMEOUT = 30.0
"""Seconds a SQLite connection waits for another's write lock before it fails."""
CONNECT_TIMEOUT = 10
"""Seconds to wait for a PostgreSQL server to accept a connection."""
_WRITE = "orderhub_archive_write"  # the execution option `writing` sets


def database_url() -> str:
    """`ORDERHUB_DATABASE_URL`, else the SQLite file in the Orderhub home."""
    configured = os.environ.get(URL_VARIABLE, "").strip()
    if configured:
        return configured
    return f"sqlite+pysqlite:///{data_dir() / SQLITE_FILE}"


def normalized(url: str | URL) -> URL:
    """The URL with a driver named: psycopg 3 for PostgreSQL, the standard sqlite3 module for SQLite."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+pysqlite")
    return parsed


def describe(url: str | URL) -> str:
    """The URL without its password, for logs, errors and the CLI."""
    return normalized(url).render_as_string(hide_password=True)


def create_archive_engine(url: str | URL | None = None, **options: Any) -> Engine:
    """An engine on `url` (default: `database_url()`); extra keyword arguments go to create_engine."""
    target = normalized(url or database_url())
    backend = target.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(target, **options)
    if backend != "postgresql":  # the writer's upserts and the migrations exist for these two only
        raise ValueError(f"ORDERHUB_DATABASE_URL names a {backend} database; the archive runs on PostgreSQL "
                         "(postgresql+psycopg://...) or SQLite")
    options.setdefault("pool_pre_ping", True)
    connect_args = options.setdefault("connect_args", {})
    connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT)
    connect_args.setdefault("application_name", "orderhub")
    return create_engine(target, **options)


_engines: dict[tuple[str, int], Engine] = {}


def get_engine(url: str | URL | None = None) -> Engine:
    """One engine per URL per process. Keyed by process id too: a Celery worker forks after import,
    and a pooled connection must never be shared between a parent and its child."""
    target = normalized(url or database_url())
    key = (target.render_as_string(hide_password=False), os.getpid())
    engine = _engines.get(key)
    if engine is None:
        engine = _engines[key] = create_archive_engine(target)
    return engine


def open_existing(url: str | URL) -> Engine | None:
    """An engine on the archive for reading only (the caller disposes of it), or None when there is no
    archive yet: a SQLite file never made (opening it would make it), or a database never migrated."""
    from sqlalchemy import inspect

    from pipeline.archive.schema import orders

    target = normalized(url)
    database = target.database or ""
    if target.get_backend_name() == "sqlite" and database not in ("", ":memory:") \
            and not database.startswith("file:") and not Path(database).exists():
        return None
    engine = create_archive_engine(target)
    try:
        if inspect(engine).has_table(orders.name):
            return engine
    except BaseException:
        engine.dispose()
        raise
    engine.dispose()
    return None


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A transaction for writes, committed when the block ends (rolled back if it raises)."""
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        with conn.begin():
            yield conn


def _sqlite_engine(url: URL, **options: Any) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        _private_file(Path(url.database))
    connect_args = options.setdefault("connect_args", {})
    connect_args.setdefault("timeout", BUSY_TIMEOUT)
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _private_file(path: Path) -> None:
    """Create the database file 0600 in a private directory before SQLite does (with the umask's mode)."""
    path = path.resolve()
    if path.parent == data_dir():
        seal(path.parent)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (_on_sqlite_begin), the module does not
    cursor = dbapi_connection.cursor()
    try:
        _to_wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        # Every commit durable (WAL's NORMAL may lose the last ones to a power cut): once an order has
        # left Redis, the archive holds its only copy.
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def _to_wal(cursor: Any) -> None:
    """Put the file in WAL mode. Only the first connections to a new file change it, and that change
    needs the file to itself: SQLite answers "database is locked" at once, without waiting out the busy
    timeout, while another connection is in a transaction (several workers starting on a fresh archive).
    So it is retried for as long as the busy timeout would have waited."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _on_sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")
