"""A batch mixing orders archived before with new ones is written as if each were written alone: the new
ones with fresh ids (on PostgreSQL from the table's own sequence, then COPied), the old ones upserted
with their children replaced, and the rows an order had before gone. Both dialects."""

from __future__ import annotations

from sqlalchemy import delete

from pipeline.archive import archive_orders, get_order, schema
from pipeline.model import OrderStatus
from tests.archive.helpers import archived, dump


def test_a_batch_of_old_and_new_orders_leaves_the_rows_of_each_written_alone(engine, _migrated):
    first = archived(1, warehouses=("east", "west"))
    archive_orders(engine, [first])
    again = archived(1, warehouses=("east",), status=OrderStatus.CANCELLED, version=2)  # one warehouse fewer
    new = [archived(n) for n in (2, 3)]
    assert archive_orders(engine, [new[0], again, new[1]]) == 3

    assert get_order(engine, "acme", again.key) == again
    assert [get_order(engine, "acme", record.key) for record in new] == new
    mixed = dump(engine)

    with _migrated.begin() as conn:  # the same three, each written on its own into an empty archive
        for table in (*schema.ORDER_CHILDREN, schema.orders):
            conn.execute(delete(table))
    for record in (again, *new):
        archive_orders(engine, [record])
    alone = dump(engine)

    def without_ids(rows):  # ids differ between the two runs; everything else must not
        return {table: sorted(repr(row[1:]) for row in table_rows) for table, table_rows in rows.items()}

    assert without_ids(mixed) == without_ids(alone)
    assert len({row[0] for row in mixed["orders"]}) == 3


def test_ids_given_to_new_orders_do_not_collide_with_later_ones(engine):
    archive_orders(engine, [archived(n) for n in range(10, 20)])
    archive_orders(engine, [archived(20)])  # then a batch of one, and another of many
    archive_orders(engine, [archived(n) for n in range(21, 30)])
    assert all(get_order(engine, "acme", archived(n).key) is not None for n in range(10, 30))
