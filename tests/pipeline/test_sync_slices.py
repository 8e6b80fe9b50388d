"""Sync in slices (found by the chaos run): a run cut off mid-window keeps the slices it finished and
the next one reads shorter slices; orders an interrupted run stored but never routed are handed to
routing again when re-read."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest

from pipeline import keys
from pipeline.ports import BundleIdentity, ShopRef
from pipeline.sync import sync_orders
from tests.factories import BASE_TIME, make_order

SHOP = ShopRef("acme", "amazon", "shop-1")
NOW = BASE_TIME + timedelta(days=2)


class CutOff(Exception):
    """Stands for the task's soft time limit or a SIGKILL in the middle of a slice."""


class Connector:
    name = "amazon"
    overlap = timedelta(hours=3)

    def identify(self, bundle):
        return BundleIdentity(f"ORD-{bundle['n']:07d}", BASE_TIME + timedelta(hours=bundle["n"]))

    def map_raw(self, raw, shop):
        return self.map_order(orjson.loads(raw), shop)

    def map_order(self, bundle, shop):
        order = make_order(bundle["n"], shop_id=shop.shop_id)
        updated = BASE_TIME + timedelta(hours=bundle["n"])
        return type(order)(**{**{f: getattr(order, f) for f in order.__struct_fields__}, "updated_at": updated})


class Client:
    """One order an hour over the two days before NOW; `fail_from` cuts off any slice reaching it."""

    def __init__(self) -> None:
        self.fail_from = None
        self.calls = []

    def sync_horizon(self, now):
        return now

    def changed_orders(self, since, until, listed=None):
        self.calls.append((since, until))
        if self.fail_from is not None and until > self.fail_from:
            raise CutOff
        page = [{"n": n} for n in range(48) if since <= BASE_TIME + timedelta(hours=n) < until]
        if page:
            yield page


def _sync(store, client, routed):
    return sync_orders(store, Connector(), client, SHOP, now=NOW, slice_length=timedelta(hours=6),
                       on_slice=routed.extend)


def test_a_run_cut_off_keeps_the_slices_it_finished_and_the_next_run_resumes_there(store):
    client, routed = Client(), []
    client.fail_from = BASE_TIME + timedelta(hours=13)
    with pytest.raises(CutOff):
        _sync(store, client, routed)
    finished = store.cursor("acme", "shop-1")
    assert finished is not None and finished <= client.fail_from
    assert sorted(routed) == sorted(make_order(n, shop_id="shop-1").key for n in range(48)
                                    if BASE_TIME + timedelta(hours=n) < finished)

    client.fail_from, client.calls = None, []
    _sync(store, client, routed)
    # Resumed at the cursor, not a week back, and with no overlap: that ground was read at NOW, long
    # after anything stamped before NOW - overlap had shown.
    assert client.calls[0][0] == finished
    assert client.calls[0][1] - client.calls[0][0] == timedelta(hours=3)  # and in shorter slices
    assert store.cursor("acme", "shop-1") == NOW
    assert all(store.get("acme", k).hold is None for k in routed)  # mapped, not held: a fair sync
    assert {make_order(n, shop_id="shop-1").key for n in range(48)} <= set(routed)


def test_a_re_read_order_never_routed_is_routed_again_and_a_submitted_one_is_not(store):
    client, routed = Client(), []
    _sync(store, client, routed)
    never, done = make_order(46, shop_id="shop-1").key, make_order(47, shop_id="shop-1").key
    store.set_stage("acme", done, "submitted")  # `never` keeps stage "received": its route task was lost
    routed.clear()
    _sync(store, client, routed)  # re-reads the overlap: both orders UNCHANGED
    assert never in routed and done not in routed


class SlowNewGround(Client):
    """Any slice longer than 30 minutes that reaches past `busy_from` is cut off (too much new work)."""

    busy_from = NOW - timedelta(hours=1)

    def changed_orders(self, since, until, listed=None):
        if until > self.busy_from and until - since > timedelta(minutes=30):
            self.calls.append((since, until))
            raise CutOff
        yield from super().changed_orders(since, until, listed)


def test_slices_keep_shrinking_when_only_the_overlap_finishes(store):
    """Found by the chaos run: the overlap slice finished and doubled the length back, so TEMU's
    next slice was as long as the one that had just died, run after run."""
    client, routed = SlowNewGround(), []
    store.set_cursor("acme", "shop-1", client.busy_from)
    for _ in range(12):
        try:
            _sync(store, client, routed)
            break
        except CutOff:
            continue
    assert store.cursor("acme", "shop-1") == NOW
    assert make_order(47, shop_id="shop-1").key in routed


def test_a_caught_up_shop_re_reads_the_whole_overlap_and_a_backlog_only_what_late_updates_could_hide(store):
    """Found by the 100,000-order chaos run: SHEIN, hours behind, re-read 30 minutes of details at
    the start of every run and spent its time limit there; the overlap is for late updates only."""
    client, routed = Client(), []
    _sync(store, client, routed)  # caught up: cursor NOW, read at NOW
    client.calls = []
    sync_orders(store, Connector(), client, SHOP, now=NOW + timedelta(minutes=10), slice_length=timedelta(hours=6))
    assert client.calls[0][0] == NOW - Connector.overlap

    behind = NOW - timedelta(hours=20)
    store.set_cursor("acme", "shop-1", behind, read_at=NOW - timedelta(hours=10))  # read well after it
    client.calls = []
    sync_orders(store, Connector(), client, SHOP, now=NOW, slice_length=timedelta(hours=6))
    assert client.calls[0][0] == behind

    store.set_cursor("acme", "shop-1", behind, read_at=behind + timedelta(hours=1))  # read soon after it
    client.calls = []
    sync_orders(store, Connector(), client, SHOP, now=NOW, slice_length=timedelta(hours=6))
    assert client.calls[0][0] == behind + timedelta(hours=1) - Connector.overlap

    store.set_cursor("acme", "shop-1", behind)  # by hand: read time unknown, the whole overlap again
    client.calls = []
    sync_orders(store, Connector(), client, SHOP, now=NOW, slice_length=timedelta(hours=6))
    assert client.calls[0][0] == behind - Connector.overlap


def test_a_run_cut_off_inside_the_overlap_does_not_read_the_part_it_finished_again(store):
    """Found by the 100,000-order chaos run: SHEIN's overlap could not be read again within one task,
    and every run started it over, so the cursor never moved again."""
    client = Client()
    behind = NOW - timedelta(hours=20)
    store.set_cursor("acme", "shop-1", behind, read_at=behind + timedelta(hours=1))  # overlap: 2 h before it
    client.fail_from = behind - timedelta(minutes=30)
    with pytest.raises(CutOff):
        sync_orders(store, Connector(), client, SHOP, now=NOW, slice_length=timedelta(hours=1))
    assert client.calls[0] == (behind - timedelta(hours=2), behind - timedelta(hours=1))
    assert store.cursor("acme", "shop-1") == behind  # the overlap moves no cursor...
    assert store.cursor_read_at("acme", "shop-1") == behind + timedelta(hours=2)  # ...but is settled up to there

    client.fail_from, client.calls = None, []
    sync_orders(store, Connector(), client, SHOP, now=NOW, slice_length=timedelta(hours=1))
    assert client.calls[0][0] == behind - timedelta(hours=1)
    assert store.cursor("acme", "shop-1") == NOW



def test_the_overlap_has_a_slice_length_of_its_own_and_stops_at_the_cursor(store):
    """Found by the fourth 100,000-order chaos run: AliExpress, caught up, its runs dying in slow new
    ground, re-read its overlap in the 5 s slices new ground had shrunk to, a list call each, and
    its cursor hung ~28 minutes behind."""
    client, hint = Client(), keys.slice_length(store.prefix, "acme", "shop-1", "orders")
    cursor = NOW - timedelta(minutes=10)
    store.set_cursor("acme", "shop-1", cursor, read_at=cursor)
    store.redis.set(hint, 60)  # new ground left short by earlier runs
    sync_orders(store, Connector(), client, SHOP, now=NOW, slice_length=timedelta(hours=6))
    assert client.calls[0] == (cursor - Connector.overlap, cursor)  # the overlap in one slice, up to the cursor
    assert client.calls[1] == (cursor, cursor + timedelta(seconds=60))  # new ground at its own length
    assert store.cursor("acme", "shop-1") == NOW

    # A run dying in the overlap halves the overlap's length (to half the slice it died in), not new ground's.
    store.redis.set(hint, 60)
    client.calls, client.fail_from = [], NOW - timedelta(hours=1)
    with pytest.raises(CutOff):
        sync_orders(store, Connector(), client, SHOP, now=NOW + timedelta(minutes=30), slice_length=timedelta(hours=6))
    assert client.calls == [(NOW - Connector.overlap, NOW)]  # read at NOW: the overlap is the 3 h before it
    assert float(store.redis.get(hint + ":overlap")) == 1.5 * 3600 and float(store.redis.get(hint)) == 60
    client.calls, client.fail_from = [], None
    sync_orders(store, Connector(), client, SHOP, now=NOW + timedelta(minutes=30), slice_length=timedelta(hours=6))
    assert client.calls[:2] == [(NOW - timedelta(hours=3), NOW - timedelta(hours=1.5)),
                                (NOW - timedelta(hours=1.5), NOW)]
    assert store.redis.get(hint + ":overlap") is None  # the whole window read: forgotten


def test_a_shortened_overlap_length_lapses_and_runs_cut_off_do_not_extend_it(store):
    """Found by the fifth 100,000-order chaos run: 4PX's shipment poll, its overlap cut to 5 s
    slices by a few runs that slow list calls had cut off, re-read the 30 minutes before its cursor
    in 360 list calls a run and never reached new ground. The short length must lapse."""
    client, hint = Client(), keys.overlap_slice_length(store.prefix, "acme", "shop-1", "orders")
    cursor = NOW - timedelta(minutes=10)
    store.set_cursor("acme", "shop-1", cursor, read_at=cursor)
    store.redis.set(hint, 5)  # left without an end by an earlier version
    client.fail_from = cursor - Connector.overlap + timedelta(seconds=30)
    for _ in range(3):
        with pytest.raises(CutOff):
            sync_orders(store, Connector(), client, SHOP, now=NOW, slice_length=timedelta(hours=6))
    assert float(store.redis.get(hint)) == 5 and 0 < store.redis.ttl(hint) <= 600
    store.redis.expire(hint, 100)  # ~8 minutes later
    for _ in range(3):
        with pytest.raises(CutOff):
            sync_orders(store, Connector(), client, SHOP, now=NOW, slice_length=timedelta(hours=6))
    assert 0 < store.redis.ttl(hint) <= 100  # not extended by the runs since
    store.redis.delete(hint)  # lapsed
    client.calls, client.fail_from = [], None
    sync_orders(store, Connector(), client, SHOP, now=NOW, slice_length=timedelta(hours=6))
    start = client.calls[0][0]
    assert client.calls[0] == (start, cursor) and start < cursor - timedelta(hours=2)  # the overlap in one slice again
