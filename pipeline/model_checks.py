"""The field checks the canonical model's Structs run on construction (pipeline/model.py and its parts).

Each failed check is an `InvalidModel` naming the field path. The `all_*` functions settle the usual,
valid case in one call; only when one says no do the `check_*` functions run field by field, so the
error still names the culprit. They are on every Order's construction path, so they stay plain loops.

Every time an order carries lies in [EARLIEST, LATEST): no marketplace order predates 2000, and a time
past 2100 (a unix time of 10**20, year 9999) is a broken or hostile payload, never a real order. The
bound also keeps every conversion (offsets, unix seconds) far from datetime's own limits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline.errors import InvalidModel

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
TIME_RANGE = "between 2000-01-01 and 2100-01-01 UTC"


def invalid(path: str, message: str) -> InvalidModel:
    return InvalidModel(path, message)


def shown(value: object, limit: int = 40) -> str:
    """A value for an error message, cut to `limit` characters: never the 5,000 digits of a hostile
    number (whose repr Python refuses past 4,300 digits anyway)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"a {value.bit_length()}-bit integer"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}..."


def check_utc(path: str, value: datetime | None) -> None:
    if value is None:
        return
    if not isinstance(value, datetime):
        raise invalid(path, f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() != timedelta(0):
        raise invalid(path, "must be timezone-aware UTC")


def all_in_range(*values: datetime | None) -> bool:
    """Every value None or inside [EARLIEST, LATEST) (aware datetimes: `all_utc` or `check_utc` ran first)."""
    for value in values:  # noqa: SIM110 (a plain loop, as in all_text: cheaper than all() over a generator)
        if value is not None and not EARLIEST <= value < LATEST:
            return False
    return True


def check_in_range(path: str, value: datetime | None) -> None:
    if value is not None and not EARLIEST <= value < LATEST:
        raise invalid(path, f"must be {TIME_RANGE}, got {value.isoformat()}")


def all_text(*values: object) -> bool:
    """Every value non-blank text: the usual case, settled in one call (the `check_*` functions name the culprit)."""
    for value in values:  # noqa: SIM110 (a plain loop: all() over a generator costs twice as much here)
        if type(value) is not str or not value or value.isspace():
            return False
    return True


def all_utc(*values: datetime | None) -> bool:
    """Every value None or a datetime in `UTC` itself: the usual case, settled in one call."""
    for value in values:
        if value is not None and (type(value) is not datetime or value.tzinfo is not UTC):
            return False
    return True


def check_text(path: str, value: object, *, allow_empty: bool = False) -> None:
    if not isinstance(value, str):
        raise invalid(path, f"expected text, got {type(value).__name__}")
    if not allow_empty and (not value or value.isspace()):
        raise invalid(path, "must not be empty")
