"""AliExpress's Pacific wall-clock times as UTC instants, for the mapping and the client.

Every AliExpress time is a "yyyy-MM-dd HH:mm:ss" string on the America/Los_Angeles clock: `readings` gives
each instant one can mean (two in the autumn hour that happens twice and in the spring hour that never
happens), `resolve_times` settles an order's times with what the order itself says, and `_instant` reads
the usual, unambiguous time of an hour already seen without zoneinfo (mapping.py's fast path).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from connectors.fields import Doc
from connectors.values import within
from pipeline.errors import MappingError
from pipeline.model_checks import TIME_RANGE

PACIFIC = ZoneInfo("America/Los_Angeles")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
# An order's own clock only moves forward: these are read so that each is <= the next.
ORDERED_TIMES = ("gmt_create", "gmt_pay_time", "gmt_send_goods_time", "gmt_update")
# Wall-clock years read at all: outside them a time is refused before zoneinfo, which overflows on year 1
# or 9999 (the exact bound, 2000 to 2100 UTC, is checked on each reading after it).
WALL_YEARS = range(1999, 2101)


def readings(value: str, path: str = "") -> list[datetime]:
    """The UTC instants a Pacific wall-clock string can mean, the default reading first.

    Normally one. In the autumn fall-back hour two (01:30 PDT, then 01:30 PST an hour later);
    in the spring-forward gap (02:30 never shows on a Pacific clock) also two: the pre-jump PST
    reading first, as if the writer's clock had not sprung forward yet, then the PDT one.
    """
    text = value.strip()
    # The fast path takes wall-clock years 2001-2098 only: every reading of those lies inside 2000 to 2100.
    if ("2000" < text[:4] < "2099" and len(text) == 19 and text[10] == " " and text[4] == text[7] == "-"
            and text[13] == text[16] == ":"):
        offsets = _HOUR_OFFSETS.get(text[:13]) or _hour_offsets(text[:13])
        if offsets:
            try:  # the wall clock read as if it were UTC (fromisoformat is C), then shifted by each offset
                as_if_utc = datetime.fromisoformat(text + "+00:00")
            except ValueError:
                raise MappingError(path, f"not a 'yyyy-MM-dd HH:mm:ss' time: {value[:30]!r}") from None
            return [as_if_utc - offsets[0]] if len(offsets) == 1 else [as_if_utc - offset for offset in offsets]
    try:
        wall = datetime.strptime(text, TIME_FORMAT)  # also takes unpadded fields ("2026-3-8 9:05:00")
    except ValueError:
        raise MappingError(path, f"not a 'yyyy-MM-dd HH:mm:ss' time: {value[:30]!r}") from None
    if wall.year not in WALL_YEARS:  # before zoneinfo, which overflows on year 1 or 9999
        raise MappingError(path, f"time is not {TIME_RANGE}")
    first = within(wall.replace(tzinfo=PACIFIC).astimezone(UTC), path)
    second = within(wall.replace(tzinfo=PACIFIC, fold=1).astimezone(UTC), path)
    return [first] if first == second else [first, second]


def _instant(text: str) -> datetime | None:
    """`readings(text)[0]` when that is the only reading and its hour's offset is memoised (the usual case,
    and then `resolve_times` has nothing to choose); else None, and the caller takes `readings` for every
    time. A memoised hour passed `readings`' checks of the first 13 characters (the year inside 2001 to
    2098, so the reading is inside 2000 to 2100; the dashes, the space); the rest are checked here."""
    offsets = _HOUR_OFFSETS.get(text[:13])
    if offsets is None or len(offsets) != 1 or len(text) != 19 or text[13] != ":" or text[16] != ":":
        return None
    try:
        return datetime.fromisoformat(text + "+00:00") - offsets[0]
    except ValueError:
        return None  # `readings` names it


# Pacific UTC offsets by wall-clock hour ("2026-11-01 01" → PDT then PST), so the zone rules are
# looked up once per hour of orders, not for every time of every order: four zoneinfo conversions
# per time made the times a third of an order's mapping cost. Grows by 24 small entries per day seen.
_HOUR_OFFSETS: dict[str, tuple[timedelta, ...]] = {}
HOUR_MEMO_LIMIT = 100_000  # about eleven years of hours; past it, hours are computed each time


def _hour_offsets(hour: str) -> tuple[timedelta, ...]:
    """The distinct offsets (fold 0 first) of one wall-clock hour, memoised; empty when the offsets
    change inside the hour (no Pacific rule does that: such a time takes the slow path)."""
    try:
        start, end = datetime.fromisoformat(f"{hour}:00:00"), datetime.fromisoformat(f"{hour}:59:59")
    except ValueError:
        return ()
    offsets = [PACIFIC.utcoffset(moment.replace(fold=fold)) for moment in (start, end) for fold in (0, 1)]
    if offsets[:2] != offsets[2:]:
        return ()
    found = tuple(dict.fromkeys(offsets[:2]))
    if len(_HOUR_OFFSETS) < HOUR_MEMO_LIMIT:  # bounded: hostile times must not grow it without end
        _HOUR_OFFSETS[hour] = found
    return found


def pacific_readings(doc: Doc) -> list[datetime]:
    """`readings` of a value in a raw dict (the client's and `identify`'s reads)."""
    if not doc.present():
        raise MappingError(doc.path, "missing")
    if not isinstance(doc.value, str):
        raise MappingError(doc.path, "expected a 'yyyy-MM-dd HH:mm:ss' Pacific time string")
    return readings(doc.value, doc.path)


def resolve_times(options: dict[str, list[datetime]]) -> dict[str, datetime]:
    """Settle the readings of the order's Pacific times (by name, in `ORDERED_TIMES` order) with what
    the bundle itself says.

    1. The times are ordered (create ≤ pay ≤ send goods ≤ update): readings that break the order
       are out (e.g. created 01:40, paid 01:05 means created in PDT and paid in PST).
    2. Of what remains, the reading with the shortest wait from placing to paying wins: buyers pay
       at checkout, so created 01:55 and paid 02:02 PST means created 01:55 PST, not an hour earlier.
    3. Still open: the default readings (the first, PDT occurrence of a repeated hour; PST for a
       time in the spring gap). If no reading is in order at all, each time gets its default.
    """
    defaults = {name: values[0] for name, values in options.items()}
    if all(len(values) == 1 for values in options.values()):
        return defaults  # the usual case: nothing ambiguous, so nothing to choose
    names = list(options)
    best: tuple[tuple[float, int], tuple[datetime, ...]] | None = None
    for choice in itertools.product(*(list(enumerate(o)) for o in options.values())):
        moments = tuple(m for _, m in choice)
        if any(a > b for a, b in itertools.pairwise(moments)):
            continue
        picked = dict(zip(names, moments, strict=True))
        wait = (picked["gmt_pay_time"] - picked["gmt_create"]).total_seconds() if "gmt_pay_time" in picked else 0.0
        rank = (wait, sum(index for index, _ in choice))
        if best is None or rank < best[0]:
            best = (rank, moments)
    return dict(zip(names, best[1], strict=True)) if best else defaults
