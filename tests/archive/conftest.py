"""Real databases for the archive tests: every test runs on SQLite and on PostgreSQL.

SQLite is a file in the test's temporary directory. PostgreSQL is a database of this run's own,
`orderhub_test_<random>`, created on the server at ORDERHUB_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres, trust auth: these machines and CI run one) and dropped,
that one only, when done. The PostgreSQL cases are skipped only when no server answers there.

`engine` is an archive migrated once per run and dialect (per xdist worker), emptied before each test;
`empty_url` is a database of the test's own that nothing has touched, for the migration tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine, delete
from sqlalchemy.engine import make_url

from pipeline.archive import create_archive_engine, schema, upgrade

DIALECTS = ["sqlite", "postgresql"]
ADMIN_URL = os.environ.get("ORDERHUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin() -> psycopg.Connection:
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL answers at {make_url(ADMIN_URL).render_as_string()}: {exc}")


@contextmanager
def fresh_database(dialect: str, folder: Path) -> Iterator[str]:
    """The URL of a new, empty database, dropped afterwards (the SQLite file goes with its folder)."""
    if dialect == "sqlite":
        yield f"sqlite+pysqlite:///{folder / 'archive.sqlite3'}"
        return
    name = f"orderhub_test_{uuid.uuid4().hex[:12]}"
    with _admin() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(ADMIN_URL).set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False)
    finally:
        with _admin() as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(params=DIALECTS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="session", params=DIALECTS)
def _migrated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with fresh_database(request.param, tmp_path_factory.mktemp(f"archive-{request.param}")) as url:
        engine = create_archive_engine(url)
        upgrade(engine)
        yield engine
        engine.dispose()


@pytest.fixture
def engine(_migrated: Engine) -> Engine:
    """The migrated archive of this dialect, with every table emptied."""
    with _migrated.begin() as conn:
        for table in (*schema.ORDER_CHILDREN, schema.orders, schema.stock_snapshots):
            conn.execute(delete(table))
    return _migrated
