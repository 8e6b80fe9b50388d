"""The field checks the canonical model's Structs run on construction (pipeline/model.py and its parts).

Each failed check is an `InvalidModel` naming the field path. Order and OrderLine settle the usual,
valid case with an inlined test of their own (every mapped order takes that path: bench/normalize.py);
only when it says no do the `check_*` functions run field by field, so the error still names the culprit.

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


def check_in_range(path: str, value: datetime | None) -> None:
    if value is not None and not EARLIEST <= value < LATEST:
        raise invalid(path, f"must be {TIME_RANGE}, got {value.isoformat()}")


def check_text(path: str, value: object, *, allow_empty: bool = False) -> None:
    if not isinstance(value, str):
        raise invalid(path, f"expected text, got {type(value).__name__}")
    if not allow_empty and (not value or value.isspace()):
        raise invalid(path, "must not be empty")
