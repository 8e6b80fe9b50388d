"""The cut at the end of ingestion: after it, a platform's own script changes nothing, pushes still do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sandbox import AmazonEmulator, SandboxClock
from sandbox.core.generator import EventKind, GeneratorSettings, OrderEvent
from tests.chaos.world import settle_platforms


def _truth(emulator) -> dict[str, tuple[str, str]]:
    return {row["id"]: (row["status"], row["updated_at"]) for row in emulator.ground_truth()}


def test_after_the_cut_the_generated_book_stands_still_but_pushed_events_still_count():
    start = datetime(2026, 3, 1, 12, tzinfo=UTC)
    clock, control = SandboxClock(start=start, factor=0), SandboxClock(start=start, factor=0)
    book = GeneratorSettings(future=timedelta(0))  # as in the chaos world: every order exists from the start
    settled, untouched = (AmazonEmulator(clock=c, orders=300, seed=4, generator=book) for c in (clock, control))
    assert _truth(settled) == _truth(untouched)

    cut = settle_platforms([settled])
    before = _truth(settled)
    for c in (clock, control):
        c.advance(timedelta(hours=12).total_seconds())
    assert _truth(untouched) != before  # the script goes on without the cut: this test would notice
    assert _truth(settled) == before
    assert cut == start

    oid, order = next((oid, o) for oid, o in settled.orders.items() if _truth(settled)[oid][0] == "Unshipped")
    order.add_event(OrderEvent(EventKind.CANCELLED, clock.now(), clock.now(), initiator="SELLER", source="push"))
    assert _truth(settled)[oid][0] == "Canceled"
