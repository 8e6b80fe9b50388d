"""The windowed read both the order sync and the shipment poll use (pipeline/windows.py WindowedRead):
keys are handed on before the cursor passes their slice, and a run cut off there reads it again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.windows import WindowedRead
from tests.factories import BASE_TIME

NOW = BASE_TIME + timedelta(hours=6)
OVERLAP = timedelta(minutes=30)


class CutOff(Exception):
    """Stands for the task's time limit while a slice's keys are handed on."""


def _window(store, **kw) -> WindowedRead:
    return WindowedRead(store, "acme", "wh-1", "test", overlap=OVERLAP, now=NOW, horizon=NOW,
                        first_read=timedelta(hours=6), **kw)


def test_each_slice_is_handed_on_before_the_cursor_passes_it_and_read_again_if_not(store):
    read: list[tuple] = []
    handed: list[tuple] = []
    cut_off = [True]

    def on_slice(keys):
        handed.append((keys, store.cursor("acme", "wh-1", "test")))
        if len(handed) == 2 and cut_off[0]:
            raise CutOff

    def reader(lower, upper):
        read.append((lower, upper))
        return [f"k{len(read)}"] if len(read) != 2 else []  # the second slice holds nothing

    with pytest.raises(CutOff):
        _window(store).run(reader, on_slice, slice_length=timedelta(hours=1))
    assert read == [(BASE_TIME + timedelta(hours=n), BASE_TIME + timedelta(hours=n + 1)) for n in range(3)]
    # No call for the empty slice; each call comes while the cursor is still before its slice.
    assert handed == [(["k1"], None), (["k3"], BASE_TIME + timedelta(hours=2))]
    assert store.cursor("acme", "wh-1", "test") == BASE_TIME + timedelta(hours=2)

    read.clear()
    cut_off[0] = False
    window = _window(store)
    assert window.since == BASE_TIME + timedelta(hours=2)  # the slice cut off is read again, in a shorter slice
    assert window.run(reader, on_slice, slice_length=timedelta(hours=1)) is True
    assert read[0] == (BASE_TIME + timedelta(hours=2), BASE_TIME + timedelta(hours=2.5))
    assert store.cursor("acme", "wh-1", "test") == NOW


def test_a_sweep_reads_its_own_window_and_leaves_the_cursor(store):
    store.set_cursor("acme", "wh-1", NOW - timedelta(hours=1), "test", read_at=NOW - timedelta(hours=1))
    read: list[tuple] = []
    window = _window(store, since=BASE_TIME)
    moved = window.run(lambda lower, upper: read.append((lower, upper)) or [], move_cursor=False)
    assert moved is False and read == [(BASE_TIME, NOW)]  # no slice length: one slice
    assert store.cursor("acme", "wh-1", "test") == NOW - timedelta(hours=1)
    assert store.cursor_read_at("acme", "wh-1", "test") == NOW - timedelta(hours=1)
