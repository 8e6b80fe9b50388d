"""The archive's schema comes from its migrations alone, on both databases, and `orderhub db` applies them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect

from orderhub.cli import main
from pipeline.archive import (
    create_archive_engine,
    current,
    database_url,
    describe,
    get_engine,
    head,
    schema,
    upgrade,
)
from pipeline.archive.migrate import VERSION_TABLE


def test_migrations_build_exactly_the_schema_module_from_an_empty_database(empty_url):
    engine = create_archive_engine(empty_url)
    try:
        assert current(engine) is None
        assert upgrade(engine) == head() == current(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "version_table": VERSION_TABLE})
            assert compare_metadata(context, schema.metadata) == []
        found = inspect(engine)
        assert set(found.get_table_names()) == {table.name for table in schema.metadata.tables.values()} | {VERSION_TABLE}
        assert {ix["name"] for ix in found.get_indexes("orders")} >= {"ix_orders_seller_placed", "ix_orders_key"}
        assert [ix["column_names"] for ix in found.get_indexes("order_lines")] == [
            ["seller", "seller_sku", "placed_day", "warehouse"]]
        assert found.get_unique_constraints("orders")[0]["column_names"] == ["seller", "key"]
        assert upgrade(engine) == head()  # again: nothing to do, no error
    finally:
        engine.dispose()


def test_concurrent_upgrades_wait_for_each_other_instead_of_failing(empty_url):
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(upgrade, [empty_url] * 3))
    assert results == [head()] * 3


def test_db_upgrade_prints_the_revision_before_and_after_and_is_a_no_op_the_second_time(empty_url, tmp_path,
                                                                                       monkeypatch):
    monkeypatch.setenv("ORDERHUB_HOME", str(tmp_path / "home"))
    if empty_url.startswith("postgresql"):
        monkeypatch.setenv("ORDERHUB_DATABASE_URL", empty_url)
    else:
        monkeypatch.delenv("ORDERHUB_DATABASE_URL", raising=False)  # the default: SQLite in the home
    runner = CliRunner()
    before = runner.invoke(main, ["db", "current"])
    assert before.exit_code == 0, before.output
    assert "revision none (empty)" in before.output and "behind" in before.output
    first = runner.invoke(main, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert f"revision none (empty) -> {head()}" in first.output
    second = runner.invoke(main, ["db", "upgrade"])
    assert second.exit_code == 0, second.output
    assert f"at revision {head()}, nothing to apply" in second.output
    assert "up to date" in runner.invoke(main, ["db", "current"]).output
    if not empty_url.startswith("postgresql"):
        database = tmp_path / "home" / "archive.sqlite3"
        assert database.exists() and database.stat().st_mode & 0o077 == 0  # buyer data: private to its user


def test_an_unreachable_database_is_one_line_with_the_password_hidden_and_exit_2(empty_url, tmp_path, monkeypatch):
    if empty_url.startswith("postgresql"):  # a port nothing listens on
        url, shown = "postgresql://orderhub:s3cret-pw@127.0.0.1:1/archive", "postgresql+psycopg://orderhub:***@127.0.0.1:1"
    else:  # a folder that cannot be made: its parent is a file
        (tmp_path / "a-file").write_text("")
        url = shown = f"sqlite+pysqlite:///{tmp_path / 'a-file' / 'archive.sqlite3'}"
    monkeypatch.setenv("ORDERHUB_DATABASE_URL", url)
    for command in (["db", "upgrade"], ["db", "current"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2, result.output
        assert f"orderhub: database at {shown}" in result.output and "is unreachable" in result.output
        assert "s3cret-pw" not in result.output and "Traceback" not in result.output


def test_the_archive_url_comes_from_the_environment_else_sqlite_in_the_home(empty_url, tmp_path, monkeypatch):
    monkeypatch.setenv("ORDERHUB_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ORDERHUB_DATABASE_URL", raising=False)
    assert database_url() == f"sqlite+pysqlite:///{tmp_path / 'home' / 'archive.sqlite3'}"
    bare = empty_url.replace("+psycopg", "").replace("+pysqlite", "")  # a driver-less URL gets ours
    monkeypatch.setenv("ORDERHUB_DATABASE_URL", f" {bare} ")
    assert database_url() == bare and describe(database_url()) == empty_url
    engine = get_engine()
    assert get_engine(empty_url) is engine  # one per URL and process
    assert upgrade(engine) == head()


def test_a_database_other_than_postgresql_or_sqlite_is_refused_when_the_engine_is_made():
    """The writer's upserts and the migrations exist for PostgreSQL and SQLite only: another backend is a
    configuration error said at once, not a failure at the first archived order."""
    from pipeline.archive.engine import create_archive_engine

    with pytest.raises(ValueError, match="names a mysql database"):
        create_archive_engine("mysql://orderhub@127.0.0.1/archive")
