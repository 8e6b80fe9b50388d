"""Reading a time window in slices behind a cursor: where a run resumes, how long each slice is, and
when the cursor moves. Shared by the order sync (a platform shop's changes) and the shipment poll (a
warehouse's completed outbound orders), which both read "everything since the cursor, and the
overlap before it again" and both had runs cut off by their time limit before they reached new ground.
`WindowedRead` is that read, written once; `Cursor` and `SliceHint` are its parts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pipeline import keys
from pipeline.store import OrderStore

MIN_SLICE = timedelta(seconds=5)
"""The shortest slice a window is cut into after interrupted runs (see SliceHint). A minute was
too long: in the 100,000-order run the minute after the busiest submissions held 85 SHEIN updates,
whose list calls alone (a part per 20 orders, each a call to a loaded emulator, some timing out)
took 25 s, past the task's soft limit, so SHEIN's cursor stood still for good."""


OVERLAP_MEMORY = timedelta(minutes=10)
"""How long a shortened overlap slice length is kept (see SliceHint)."""


class Cursor:
    """One stream's cursor (read through here) and when the run that moved it started (`read_at`).

    `owner` is a shop id for order streams and a warehouse id for shipments."""

    def __init__(self, store: OrderStore, seller: str, owner: str, stream: str, overlap: timedelta,
                 now: datetime) -> None:
        self.store, self.seller, self.owner, self.stream = store, seller, owner, stream
        self.overlap, self.now = overlap, now
        self.at = store.cursor(seller, owner, stream)
        self.read_at = store.cursor_read_at(seller, owner, stream)

    def resume_from(self) -> datetime | None:
        """Where a run resumes: the overlap before the cursor, but only the part a late update could
        have been hiding in when it was read.

        An update stamped at t shows within `overlap` of t, so a run that started at `read_at` saw every
        update stamped before `read_at - overlap`. Caught up (cursor near its read time), that is the
        whole overlap; catching up a backlog (cursor hours behind), nothing before the cursor needs a
        second read. Re-reading the full overlap on every run made SHEIN's backlog in the 100,000-order
        chaos run quadratic: each run spent its time limit re-reading details before reaching new ground.
        Without a known read time (a cursor set by hand, or by an older version), the whole overlap is
        read again. None: no cursor yet."""
        if self.at is None:
            return None
        if self.read_at is None:
            return self.at - self.overlap
        return min(self.at, self.read_at - self.overlap)

    def passed(self, upper: datetime, *, settle: bool = True) -> bool:
        """A slice up to `upper` is read and stored: move the cursor there (True), or, for a slice of
        the overlap, note that it was read again for good so a run cut off later skips it (`settle`)."""
        if self.at is None or upper > self.at:
            self.store.set_cursor(self.seller, self.owner, upper, self.stream, read_at=self.now)
            self.at = upper
            return True
        if settle and (settled := self._settled_through(upper)):
            self.store.set_cursor(self.seller, self.owner, self.at, self.stream, read_at=settled)
            self.read_at = settled
        return False

    def _settled_through(self, upper: datetime) -> datetime | None:
        """The read time to note once the overlap has been read again up to `upper`: updates stamped
        before `upper` show by `upper + overlap`, so if that is past, none is left to hide there (else,
        none before `now - overlap`). None when it would not move the noted one forward.

        Without it, a run that could not finish re-reading the overlap within its time limit started
        over the next time: SHEIN's cursor in the 100,000-order chaos run stood still for good."""
        settled = min(self.now, upper + self.overlap)
        return settled if self.read_at is None or settled > self.read_at else None


class SliceHint:
    """How long the next slice of a window is: at most `longest`, halved (down to MIN_SLICE)
    when a run died inside a slice, doubled again after each slice of new ground that finished.

    The halving is written before a slice is read and undone after it, so a run that never comes
    back (time limit, SIGKILL) leaves the shorter length for the next one. A stream whose window reads
    in one go keeps reading it in one go; only a window that cannot be read within one task is cut.

    The overlap (before the cursor, read again) has a length of its own, and its slices stop at the
    cursor. It halves to half the slice a run died in, is never doubled within a run, and is
    forgotten once a run reads its whole window, or OVERLAP_MEMORY after it was first shortened.
    Without that lapse, a few runs cut off by slow list calls (not by too much to read) left 4PX's
    shipment poll in the fifth 100,000-order run re-reading its 30-minute overlap in 5 s slices,
    360 calls a run, and no run ever reached new ground. Sharing one length went wrong both ways in the
    chaos runs: a finished overlap slice doubled the length, and TEMU's next slice of new ground
    died as long as before, run after run; a caught-up AliExpress whose runs died in slow new ground
    re-read its 30-minute overlap in 5 s slices, a list call each, hit its time limit there, halved
    the length again with each death, and hung ~28 minutes behind the present.
    """

    def __init__(self, store: OrderStore, seller: str, owner: str, stream: str, longest: timedelta | None,
                 cursor: datetime | None) -> None:
        self.redis, self.longest, self.cursor = store.redis, longest or timedelta(0), cursor
        self.key = keys.slice_length(store.prefix, seller, owner, stream)
        self.overlap_key = keys.overlap_slice_length(store.prefix, seller, owner, stream)
        self.length, self.reread = self._saved(self.key), self._saved(self.overlap_key)

    def _saved(self, key: str) -> timedelta:
        saved = self.redis.get(key) if self.longest else None
        return min(self.longest, timedelta(seconds=float(saved))) if saved else self.longest

    def _rereading(self, lower: datetime) -> bool:
        return self.cursor is not None and lower < self.cursor

    def end(self, lower: datetime, until: datetime) -> datetime:
        if not self.longest:
            return until
        if self._rereading(lower):
            return min(until, self.cursor, lower + self.reread)
        return min(until, lower + self.length)

    def entering(self, lower: datetime, upper: datetime) -> None:
        if not self.longest:
            return
        if self._rereading(lower):
            # Kept for OVERLAP_MEMORY from the first shortening on, never extended: see the class.
            overlap = self.overlap_key
            self.redis.set(overlap, max(MIN_SLICE, (upper - lower) / 2).total_seconds(), keepttl=True)
            if self.redis.ttl(overlap) < 0:
                self.redis.expire(overlap, int(OVERLAP_MEMORY.total_seconds()))
        else:
            self.redis.set(self.key, max(MIN_SLICE, self.length / 2).total_seconds())

    def finished(self, lower: datetime) -> None:
        if not self.longest:
            return
        if self._rereading(lower):
            self.redis.set(self.overlap_key, self.reread.total_seconds(), xx=True, keepttl=True)
        else:
            self.length = min(self.longest, self.length * 2)
            self.redis.set(self.key, self.length.total_seconds())

    def window_read(self) -> None:
        if self.longest:
            self.redis.delete(self.overlap_key)


class WindowedRead:
    """One run's read of one stream: from `since` (the overlap before the cursor, or `first_read`
    back for a stream without one, or a caller's `since`) to `until` (the horizon), in slices.

    The order sync and the shipment poll each wrote this loop; they differ only in what reading a
    slice means, which is the caller's `read`. The rules kept here, for both:
    - each slice is read and durably handled (`read` returns once it is stored or recorded), then its
      keys go to `on_slice`, and only then does the cursor pass it: a run cut off anywhere reads the
      slice again, never skips it, and never leaves keys behind the cursor that nobody was handed;
    - slices follow SliceHint (shorter after runs died inside one), and a slice of the overlap that
      finished settles the cursor's read time (Cursor.passed), so a run cut off later resumes after it.
    `since` and `until` are known before anything is read, for a caller's report.
    """

    def __init__(self, store: OrderStore, seller: str, owner: str, stream: str, *, overlap: timedelta,
                 now: datetime, horizon: datetime, first_read: timedelta,
                 since: datetime | None = None) -> None:
        self.store, self.seller, self.owner, self.stream = store, seller, owner, stream
        self.cursor = Cursor(store, seller, owner, stream, overlap, now)
        self.since = since or self.cursor.resume_from() or now - first_read
        self.until = horizon

    def run(self, read: Callable[[datetime, datetime], list[str]],
            on_slice: Callable[[list[str]], None] | None = None, *, slice_length: timedelta | None = None,
            move_cursor: bool = True, settle: bool = True) -> bool:
        """Read the window slice by slice; True if the cursor moved forward.

        `read(lower, upper)` reads and handles one slice and returns the keys to hand on (none: no
        call). Without `slice_length` the window is one slice. `move_cursor=False` (a reconciliation
        sweep) leaves the cursor and its read time alone; `settle=False` moves the cursor over new
        ground but does not settle the overlap (a sweep's `since` is not the overlap before it)."""
        slices = SliceHint(self.store, self.seller, self.owner, self.stream, slice_length, self.cursor.at)
        moved = False
        lower = self.since
        while lower < self.until:
            upper = slices.end(lower, self.until)
            slices.entering(lower, upper)
            keys = read(lower, upper)
            if keys and on_slice is not None:
                on_slice(keys)
            if move_cursor:
                moved = self.cursor.passed(upper, settle=settle) or moved
            slices.finished(lower)
            lower = upper
        slices.window_read()
        return moved
