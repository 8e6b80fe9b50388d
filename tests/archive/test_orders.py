"""Orders in the archive: written idempotently, read back exactly (money, aware UTC times, raw bytes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError

from pipeline.archive import Tracking, archive_orders, get_order, orders_of_seller, schema
from pipeline.model import OrderStatus
from tests.archive.helpers import PLACED, RAW, US, archived, dump, order


def test_an_order_round_trips_exactly(engine):
    record = archived(1, warehouses=("east", "west"), stage="held", currency="KWD")
    assert archive_orders(engine, [record]) == 1
    back = get_order(engine, "acme", record.key)
    assert back == record
    assert str(back.totals.total.amount) == "9999999999.999" and str(back.lines[0].unit_price.amount) == "1234567.890"
    assert back.placed_at == PLACED and back.placed_at.tzinfo is UTC and back.placed_at.microsecond == 123456
    assert all(t is None or t.tzinfo is UTC for t in (back.updated_at, back.ship_by, back.closed_at,
                                                      back.shipments[0].shipped_at, back.timeline[0].at))
    assert back.raw == RAW + b"1"  # binary, not text: bytes identical after compression
    assert back.timeline[1].addresses["sent"] == US  # the address change keeps both addresses
    assert back.hold is not None and back.hold.detail == "recall it"
    expected = msgspec.structs.replace(order(1, currency="KWD"), payload_hash="hash-1")
    assert back.to_order() == expected


@pytest.mark.parametrize("currency", ["USD", "JPY"])
def test_amounts_come_back_with_their_currency_decimals(engine, currency):
    record = archived(2, currency=currency)
    archive_orders(engine, [record])
    back = get_order(engine, "acme", record.key)
    assert back.to_order().totals == record.totals
    assert [str(line.unit_price.amount) for line in back.lines] == [str(record.lines[0].unit_price.amount)]


def test_raw_payload_is_stored_compressed(engine):
    record = msgspec.structs.replace(archived(3), raw=b'{"items": [' + b'{"sku": "MUG-01"},' * 2000 + b"{}]}")
    archive_orders(engine, [record])
    with engine.connect() as conn:
        stored, codec = conn.execute(select(schema.orders.c.raw, schema.orders.c.raw_codec)).one()
    assert codec == "zlib" and len(stored) < len(record.raw) / 20
    assert get_order(engine, "acme", record.key).raw == record.raw


def test_archiving_the_same_batch_twice_leaves_the_same_rows(engine):
    batch = [archived(n, warehouses=("east", "west")[: 1 + n % 2]) for n in range(1, 6)]
    assert archive_orders(engine, batch) == 5
    once = dump(engine)
    assert archive_orders(engine, batch) == 5
    assert dump(engine) == once
    assert {name: len(rows) for name, rows in once.items()} == {
        "orders": 5, "order_lines": 5, "order_submissions": 8, "order_shipments": 8, "order_shipment_lines": 8,
        "order_events": 5 * 3 + 8, "stock_snapshots": 0}  # three orders went to two warehouses


def test_a_newer_record_replaces_the_order_whole_under_the_same_row(engine):
    first = archived(7, warehouses=("east", "west"), lines=(("MUG-01", 2), ("CUP-02", 1)), status=OrderStatus.READY)
    archive_orders(engine, [first])
    with engine.connect() as conn:
        order_id = conn.execute(select(schema.orders.c.id)).scalar_one()
    newer = archived(7, warehouses=("east",), lines=(("MUG-01", 3),), version=9)
    archive_orders(engine, [newer])
    assert get_order(engine, "acme", first.key) == newer
    with engine.connect() as conn:
        assert conn.execute(select(schema.orders.c.id, schema.orders.c.status)).all() == [(order_id, "SHIPPED")]
        counts = {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                  for table in schema.ORDER_CHILDREN}
    assert counts == {"order_lines": 1, "order_submissions": 1, "order_shipments": 1, "order_shipment_lines": 1,
                      "order_events": 4}


def test_the_last_record_of_an_order_in_a_batch_wins_and_sellers_do_not_collide(engine):
    old, new = archived(8), archived(8, version=3)
    other_seller = archived(8, seller="globex")
    assert other_seller.key == old.key
    assert archive_orders(engine, [old, other_seller, new]) == 2
    assert get_order(engine, "acme", old.key) == new
    assert get_order(engine, "globex", old.key) == other_seller
    assert get_order(engine, "acme", "amazon:shop-1:missing") is None
    assert archive_orders(engine, []) == 0


def test_tracking_and_submission_times_come_from_the_timeline(engine):
    record = archived(9, warehouses=("east", "west"))
    archive_orders(engine, [record])
    back = get_order(engine, "acme", record.key)
    east, west = back.shipments
    assert (east.tracking, east.tracking_pushed_at) == (Tracking.PUSHED, PLACED + timedelta(hours=4))
    assert (west.tracking, west.tracking_refusal) == (Tracking.REFUSED, "already shipped another way")
    assert [s.submitted_at for s in back.submissions] == [PLACED + timedelta(minutes=2), PLACED + timedelta(minutes=3)]
    assert back.lines[0].warehouse is None  # one SKU shipped from two warehouses: no single one
    archive_orders(engine, [archived(10)])
    assert get_order(engine, "acme", archived(10).key).lines[0].warehouse == "east"  # its only submission


def test_times_are_compared_in_utc_and_naive_ones_are_refused(engine):
    archive_orders(engine, [archived(11)])
    tokyo = timezone(timedelta(hours=9))
    since = PLACED.astimezone(tokyo)  # the same instant, written in Tokyo time
    assert [o.key for o in orders_of_seller(engine, "acme", since, since + timedelta(seconds=1))] == [archived(11).key]
    with pytest.raises(StatementError, match="aware"):
        orders_of_seller(engine, "acme", datetime(2026, 11, 1), datetime(2026, 11, 3))  # noqa: DTZ001
