"""Closed orders move from Redis to the archive, crash-safe, and an archived order listed again is
recognised: never stored, routed or submitted again, its change written to the archive's timeline.
Every test runs on SQLite and on PostgreSQL, against a real Redis under a prefix of its own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import orjson
import pytest

from pipeline import keys, submissions
from pipeline.archive import archive_orders, get_order, orders_of_seller
from pipeline.archive import move as move_module
from pipeline.archive.move import move_closed
from pipeline.archive.relisted import ArchiveLink, screen
from pipeline.archive.take_out import TakeOut
from pipeline.archive.tombstones import expires_at, find, tombstone_time
from pipeline.archive.writer import prune_orders
from pipeline.fulfilment import mark_tracking_pushed
from pipeline.model import EventKind, FulfilledBy, HoldReason, OrderStatus, Shipment, ShipmentLine, utc_now
from pipeline.ports import ShopRef
from pipeline.stages import Stage
from pipeline.store import UpsertResult
from pipeline.store_scripts import hash_head
from pipeline.sync import sync_orders
from tests.archive.helpers import BundleConnector, PageClient, archived
from tests.factories import make_order, received

SELLER = "acme"
SHOP = ShopRef(SELLER, "amazon", "shop-1")


def _shipped(store, n: int, *, pushed: bool = True) -> str:
    order = make_order(n, status=OrderStatus.SHIPPED)
    store.upsert(SELLER, [received(order)])
    sub = submissions.Submission("east", f"OH-{n}", f"R{n}", "OPEN")
    submissions.record(store, SELLER, order.key, sub, submitted=f"east ref OH-{n} (R{n})", last=True)
    shipment = Shipment(order_key=order.key, warehouse="east", carrier="UPS", tracking_number=f"1Z{n}",
                        shipped_at=order.placed_at + timedelta(hours=5), lines=(ShipmentLine("MUG-01", 1),))
    store.redis.hset(keys.shipments(store.prefix, SELLER, order.key), "east", msgspec.json.encode(shipment))
    store.redis.zadd(keys.tracking_due(store.prefix, SELLER, "east"), {order.key: 1.0})
    _allocate(store, order.key, 0)  # every reserved unit shipped: the allocation reserves none
    store.set_stage(SELLER, order.key, Stage.SHIPPED)
    if pushed:
        mark_tracking_pushed(store, SELLER, order.key, "east")
    return order.key


def _allocate(store, key: str, units: int) -> None:
    store.redis.set(keys.allocation(store.prefix, SELLER, key), orjson.dumps([["east", "MUG-01", units]]))
    store.redis.sadd(keys.allocations(store.prefix, SELLER), key)


def _stored(store, n: int, status: OrderStatus = OrderStatus.READY, **changes) -> str:
    order = msgspec.structs.replace(make_order(n, status=status), **changes)
    store.upsert(SELLER, [received(order)])
    return order.key


def _traces(store, key: str) -> list[str]:
    """Every key of the test's prefix that names the order, and every set or hash that holds it."""
    found = [k.decode() for k in store.redis.scan_iter(match=f"{store.prefix}*", count=1000) if key in k.decode()]
    for k in store.redis.scan_iter(match=f"{store.prefix}*", count=1000):
        kind = store.redis.type(k)
        if (kind == b"set" and store.redis.sismember(k, key)) or (kind == b"zset" and store.redis.zscore(k, key)) \
                or (kind == b"hash" and (store.redis.hexists(k, key)
                                         or key.encode() in store.redis.hvals(k))):
            found.append(k.decode())
    return sorted(found)


def _soon():
    return utc_now() + timedelta(seconds=1)


def _tomb(store, record) -> bytes | None:
    return find(store.redis, store.prefix, SELLER, platform=record.platform, shop_id=record.shop_id,
                external_id=record.external_id, placed_at=record.placed_at)


def _forget(store, record) -> None:
    """Its tombstone gone, as when its bucket expired."""
    store.redis.hdel(keys.tombstones(store.prefix, SELLER, record.platform, record.shop_id, record.placed_at.date()),
                     record.external_id)


def test_closed_orders_leave_redis_for_the_archive_and_open_ones_stay(engine, store):
    shipped = _shipped(store, 1)
    cancelled = _stored(store, 2, OrderStatus.CANCELLED)
    ignored = _stored(store, 3, fulfilled_by=FulfilledBy.PLATFORM)
    store.set_stage(SELLER, ignored, Stage.IGNORED)
    routed = _stored(store, 4)
    _allocate(store, routed, 2)
    store.set_stage(SELLER, routed, Stage.ROUTED)
    unpushed = _shipped(store, 5, pushed=False)
    too_late = _stored(store, 6, OrderStatus.CANCELLED)
    store.hold(SELLER, too_late, HoldReason.CANCEL_TOO_LATE, "east shipped 1Z6")
    recent = _stored(store, 7, OrderStatus.CANCELLED)
    before = {key: store.get(SELLER, key) for key in (routed, unpushed, too_late, recent)}

    cutoff = _soon()
    store.append_event(SELLER, recent, EventKind.NOTE, "after the cutoff")  # still younger than hot_days
    store.redis.rpush(keys.timeline(store.prefix, SELLER, recent),
                      orjson.dumps({"at": (cutoff + timedelta(days=1)).isoformat(), "kind": "note", "detail": "x"}))
    report = move_closed(store, engine, SELLER, cutoff, tombstone_days=90)

    assert (report.archived, report.open, report.changed) == (3, 2, 0)
    bucket = keys.tombstones(store.prefix, SELLER, "amazon", "shop-1", make_order(1).placed_at.date())
    for key in (shipped, cancelled, ignored):
        assert _traces(store, key) == []  # its tombstone is a field of its shop's and day's hash: the external id
        back = get_order(engine, SELLER, key)
        assert back is not None and back.closed_at is not None and back.closed_at <= cutoff
        tomb = _tomb(store, back)
        assert len(tomb) == 12 and tomb[:8] == hash_head(back.payload_hash)
        assert utc_now() - timedelta(minutes=1) < tombstone_time(tomb) <= utc_now()
    assert store.redis.hlen(bucket) == 3
    expiry = expires_at(make_order(1).placed_at, timedelta(days=90))  # the window after the placed day
    assert store.redis.expiretime(bucket) == int(expiry.timestamp()) == int(datetime(2027, 1, 31, tzinfo=UTC).timestamp())
    assert get_order(engine, SELLER, shipped).shipments[0].tracking_pushed_at is not None
    for key, was in before.items():
        assert store.get(SELLER, key) == was and get_order(engine, SELLER, key) is None
    assert store.redis.get(keys.allocation(store.prefix, SELLER, routed)) is not None


def test_a_move_killed_between_archive_and_redis_leaves_both_tiers_and_the_next_run_finishes(
        engine, store, monkeypatch):
    key = _shipped(store, 11)

    def killed(*_args, **_kw):
        raise KeyboardInterrupt("worker killed after the archive commit")

    monkeypatch.setattr(TakeOut, "__call__", killed)
    with pytest.raises(KeyboardInterrupt):
        move_closed(store, engine, SELLER, _soon())
    assert store.get(SELLER, key) is not None and get_order(engine, SELLER, key) is not None  # both, never none
    monkeypatch.undo()

    report = move_closed(store, engine, SELLER, _soon())
    assert report.archived == 1 and store.get(SELLER, key) is None
    assert get_order(engine, SELLER, key).stage == Stage.SHIPPED
    placed = make_order(11).placed_at
    listed = orders_of_seller(engine, SELLER, placed - timedelta(days=1), placed + timedelta(days=1))
    assert [summary.key for summary in listed] == [key]  # written once


def test_an_order_changed_after_it_was_archived_stays_in_redis_for_the_next_run(engine, store, monkeypatch):
    key = _stored(store, 12, OrderStatus.CANCELLED)
    real = move_module.archive_orders

    def archive_then_sync(engine_, records):
        written = real(engine_, records)
        store.upsert(SELLER, [received(make_order(12, status=OrderStatus.CANCELLED, version=3))])
        return written

    monkeypatch.setattr(move_module, "archive_orders", archive_then_sync)
    report = move_closed(store, engine, SELLER, _soon())
    assert (report.archived, report.changed) == (0, 1)
    assert store.get(SELLER, key) is not None and get_order(engine, SELLER, key) is not None
    assert _tomb(store, get_order(engine, SELLER, key)) is None
    monkeypatch.undo()
    assert move_closed(store, engine, SELLER, _soon()).archived == 1
    assert get_order(engine, SELLER, key).updated_at == make_order(12, version=3).updated_at


def _sync(store, page, link):
    routed: list[str] = []
    report = sync_orders(store, BundleConnector(), PageClient(page), SHOP, on_slice=routed.extend, archive=link,
                         reuse_rows=False)
    return report, routed


def test_an_archived_order_listed_again_is_recognised_and_its_change_recorded(engine, store):
    link = ArchiveLink(engine, tombstone_days=90)
    first = [{"n": 21, "status": "CANCELLED", "v": 0}, {"n": 22, "status": "READY", "v": 0}]
    _, routed = _sync(store, first, link)
    key, other = make_order(21).key, make_order(22).key
    assert sorted(routed) == sorted([key, other])
    assert move_closed(store, engine, SELLER, _soon()).archived == 1
    events = len(get_order(engine, SELLER, key).timeline)

    report, routed = _sync(store, first, link)  # the overlap lists it again, unchanged
    assert report.results[UpsertResult.ARCHIVED.value] == 1 and key not in routed
    assert store.get(SELLER, key) is None and len(get_order(engine, SELLER, key).timeline) == events

    changed = [{"n": 21, "status": "CANCELLED", "v": 5}]  # a late platform update of the archived order
    report, routed = _sync(store, changed, link)
    assert report.results == {UpsertResult.RELISTED.value: 1} and routed == []
    assert store.get(SELLER, key) is None
    back = get_order(engine, SELLER, key)
    assert len(back.timeline) == events + 1 and back.timeline[-1].kind is EventKind.UPDATED
    assert back.timeline[-1].detail == "listed again after archiving: CANCELLED"
    assert back.updated_at == make_order(21, version=5).updated_at
    assert _sync(store, changed, link)[0].results == {UpsertResult.ARCHIVED.value: 1}  # recorded once

    # Past the tombstone window the archive is asked, at every listing: the order's bucket is gone for good.
    _forget(store, back)
    for _ in range(2):
        report, routed = _sync(store, changed, ArchiveLink(engine, tombstone_days=7))  # placed weeks ago
        assert report.results == {UpsertResult.ARCHIVED.value: 1} and routed == []
        assert store.get(SELLER, key) is None and _tomb(store, back) is None
    assert len(get_order(engine, SELLER, key).timeline) == events + 1


def test_an_order_whose_bucket_would_have_expired_leaves_no_tombstone_and_the_archive_answers(engine, store):
    key = _stored(store, 25, OrderStatus.CANCELLED)  # placed weeks ago: a 7-day window ended long since
    assert move_closed(store, engine, SELLER, _soon(), tombstone_days=7).archived == 1
    back = get_order(engine, SELLER, key)
    assert _traces(store, key) == [] and _tomb(store, back) is None
    assert not list(store.redis.scan_iter(match=keys.tombstones_pattern(store.prefix, SELLER)))
    item = received(make_order(25, status=OrderStatus.CANCELLED))
    assert screen(store, SELLER, [item], ArchiveLink(engine, tombstone_days=7)) == {0: UpsertResult.ARCHIVED}


def test_screen_leaves_a_tombstone_only_while_the_order_s_bucket_still_lives(engine, store):
    key = _stored(store, 26, OrderStatus.CANCELLED)
    assert move_closed(store, engine, SELLER, _soon()).archived == 1
    back = get_order(engine, SELLER, key)
    _forget(store, back)
    item = received(make_order(26, status=OrderStatus.CANCELLED))
    days = (utc_now().date() - back.placed_at.date()).days + 1  # its bucket lives till the day after tomorrow
    later = utc_now() + timedelta(days=2)  # ...and screen, asked then, finds it placed before the window
    assert screen(store, SELLER, [item], ArchiveLink(engine, tombstone_days=days), now=later) == {
        0: UpsertResult.ARCHIVED}
    assert _tomb(store, back)[:8] == hash_head(item.payload_hash)
    assert screen(store, SELLER, [item], ArchiveLink(engine, tombstone_days=days), now=later) == {}  # Redis knows


def test_an_order_whose_timeline_grew_after_it_was_archived_stays_in_redis(engine, store, monkeypatch):
    key = _stored(store, 27, OrderStatus.CANCELLED)
    real = move_module.archive_orders

    def archive_then_note(engine_, records):
        written = real(engine_, records)
        store.append_event(SELLER, key, EventKind.NOTE, "ops looked at it")  # same payload, one more event
        return written

    monkeypatch.setattr(move_module, "archive_orders", archive_then_note)
    assert (move_closed(store, engine, SELLER, _soon()).changed, store.get(SELLER, key) is not None) == (1, True)
    monkeypatch.undo()
    assert move_closed(store, engine, SELLER, _soon()).archived == 1
    assert get_order(engine, SELLER, key).timeline[-1].detail == "ops looked at it"


def test_prune_removes_only_the_orders_closed_before_the_horizon(engine):
    now = utc_now()
    old, young = archived(31, placed=now - timedelta(days=800)), archived(32, placed=now - timedelta(days=30))
    unclosed = archived(33, placed=now - timedelta(days=900), closed=False)
    archive_orders(engine, [old, young, unclosed, archived(34, seller="other", placed=now - timedelta(days=800))])
    assert prune_orders(engine, now - timedelta(days=730), SELLER) == 2
    assert get_order(engine, SELLER, old.key) is None and get_order(engine, SELLER, unclosed.key) is None
    assert get_order(engine, SELLER, young.key) == young
    assert get_order(engine, "other", archived(34, seller="other").key) is not None


SELLER_FILE = """
seller = "acme"
[retention]
hot_days = 7
archive_days = 365
"""


def test_the_archive_commands_move_with_progress_and_prune_past_the_horizon(engine, store, monkeypatch, tmp_path,
                                                                              redis_url, prefix):
    from click.testing import CliRunner

    from orderhub.cli import main

    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ORDERHUB_PREFIX", prefix)
    monkeypatch.setenv("ORDERHUB_CONFIG", str(tmp_path))
    monkeypatch.setenv("ORDERHUB_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    (tmp_path / "acme.toml").write_text(SELLER_FILE)
    key, young = _shipped(store, 41), _stored(store, 42, OrderStatus.CANCELLED)
    runner = CliRunner()
    assert "0 archived" in runner.invoke(main, ["archive", "run", "--seller", "acme"]).output  # closed today
    later = utc_now() + timedelta(days=8)
    monkeypatch.setattr(move_module, "utc_now", lambda: later)
    result = runner.invoke(main, ["archive", "run"])
    assert result.exit_code == 0, result.output
    assert "acme: 2 looked at, 2 archived" in result.output and "acme: 2 archived, 0 still open" in result.output
    assert store.get(SELLER, key) is None and get_order(engine, SELLER, young) is not None

    archive_orders(engine, [archived(43, placed=utc_now() - timedelta(days=400))])
    result = runner.invoke(main, ["archive", "prune"])
    assert result.exit_code == 0, result.output
    assert "acme: 1 orders closed more than 365 days ago deleted" in result.output
    assert get_order(engine, SELLER, key) is not None
    assert runner.invoke(main, ["archive", "prune", "--older-than", "1", "--seller", "nobody"]).exit_code == 2
