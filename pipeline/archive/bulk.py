"""PostgreSQL's COPY for the archive writer's batches: the fast way in for thousands of rows.

Through SQLAlchemy, psycopg sends an executemany as one statement per row (pipelined, but ~30 µs of
Python each), and SQLAlchemy's multi-row INSERTs ("insertmanyvalues") come out slower still on psycopg,
which re-parses every large named-parameter statement. COPY streams the rows in one statement. It runs
on the transaction's own connection, so it commits or rolls back with the rest of the batch. Values go
through each column type's bind processing first (pipeline/archive/types.py: amounts checked, times
made UTC), as they would through an INSERT. New orders are COPied in with ids taken from the table's
sequence; orders archived before are upserted, which COPY cannot do: copied into a temporary table
dropped at commit, then moved with one INSERT ... SELECT ... ON CONFLICT.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from psycopg import sql
from sqlalchemy import Column, Connection, String, Table, bindparam, column, select, table, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY


def copy_rows(conn: Connection, target: Table, rows: Sequence[Mapping[str, Any]], name: str | None = None) -> None:
    """COPY `rows` (dicts with the same keys, all columns of `target`) into `target`, or into the table
    called `name` with those columns."""
    if not rows:
        return
    columns = [target.c[key] for key in rows[0]]
    processors = [(c.name, _bind_processor(conn, c)) for c in columns]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(name or target.name), sql.SQL(", ").join(sql.Identifier(c.name) for c in columns))
    cursor = conn.connection.driver_connection.cursor()  # the connection of the open transaction
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[key] if process is None else process(row[key]) for key, process in processors])


def upsert_copied(conn: Connection, target: Table, rows: Sequence[Mapping[str, Any]], conflict: Sequence[str]) -> None:
    """Upsert `rows` into `target` on `conflict` (every other column updated): COPY into a temporary
    table, then one INSERT ... SELECT ... ON CONFLICT DO UPDATE."""
    if not rows:
        return
    names = list(rows[0])
    staging = f"{target.name}_incoming"
    conn.exec_driver_sql(sql.SQL("CREATE TEMPORARY TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA").format(
        sql.Identifier(staging), sql.SQL(", ").join(sql.Identifier(n) for n in names),
        sql.Identifier(target.name)).as_string(conn.connection.driver_connection))
    copy_rows(conn, target, rows, name=staging)
    incoming = table(staging, *(column(n) for n in names))
    stmt = postgresql.insert(target).from_select(names, select(*(incoming.c[n] for n in names)))
    stmt = stmt.on_conflict_do_update(index_elements=list(conflict),
                                      set_={n: stmt.excluded[n] for n in names if n not in conflict})
    conn.execute(stmt)
    conn.exec_driver_sql(sql.SQL("DROP TABLE {}").format(sql.Identifier(staging))
                         .as_string(conn.connection.driver_connection))  # a second batch in the same transaction


def write_orders(conn: Connection, orders: Table, rows: Sequence[Mapping[str, Any]]) -> tuple[dict[tuple[str, str], int],
                                                                                          list[int]]:
    """Write order rows, new or again: the id of each by (seller, key), and the ids of those that were
    already there (only they can have children to replace). The orders already archived are found with
    one query and upserted (`upsert_copied`); the new ones, nearly all of a move, are given ids from the
    table's own sequence and COPied straight in, which spares the staging table and the per-row upsert. A
    concurrent insert of the same order fails the transaction on the unique key, and the batch is written
    again by the next run."""
    if not rows:
        return {}, []
    found = conn.execute(
        text("SELECT o.seller, o.key, o.id FROM orders AS o JOIN unnest(:sellers, :keys) AS t(seller, key) "
             "ON o.seller = t.seller AND o.key = t.key").bindparams(
            bindparam("sellers", [row["seller"] for row in rows], ARRAY(String())),
            bindparam("keys", [row["key"] for row in rows], ARRAY(String()))))
    existing = {(seller, key): order_id for seller, key, order_id in found}
    again = [row for row in rows if (row["seller"], row["key"]) in existing]
    new = [row for row in rows if (row["seller"], row["key"]) not in existing]
    ids = dict(existing)
    if again:
        upsert_copied(conn, orders, again, ("seller", "key"))
    if new:
        fresh = conn.execute(text("SELECT nextval(pg_get_serial_sequence('orders', 'id')) "
                                  "FROM generate_series(1, :n)").bindparams(n=len(new))).scalars().all()
        with_ids = [{"id": order_id, **row} for order_id, row in zip(fresh, new, strict=True)]
        copy_rows(conn, orders, with_ids)
        ids.update({(row["seller"], row["key"]): row["id"] for row in with_ids})
    return ids, list(existing.values())


def _bind_processor(conn: Connection, col: Column[Any]) -> Any:
    return col.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
