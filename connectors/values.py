"""Bounded reads of the values every mapping parses: amounts, times, quantities and order lines.

One reader for each, so a hostile value fails the same way on every platform: an amount of "1e400",
"NaN" or "-5", a unix time of 10**20 or -1, a year 9999, a quantity of 2**62 is a MappingError at its
field's path in the raw bundle, which the pipeline holds as INVALID_PAYLOAD with the raw payload kept
(never a traceback, never a READY order). The bounds are the model's: amounts 0 to below MAX_AMOUNT
(pipeline/money.py), times from 2000 to 2100 UTC (pipeline/model_checks.py), 1 to MAX_QUANTITY units a
line (pipeline/model.py); checked here they name the raw field, and the model checks them again.
Which unit or format a platform uses stays in its own mapping, which picks the reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from pipeline.errors import InvalidModel, MappingError
from pipeline.model import EARLIEST, LATEST, MAX_AMOUNT, MAX_QUANTITY, MINOR_STEP, Money
from pipeline.model_checks import TIME_RANGE, shown

EPOCH_EARLIEST, EPOCH_LATEST = int(EARLIEST.timestamp()), int(LATEST.timestamp())
_ZERO = Decimal(0)
_MAX_MINOR = {code: int(MAX_AMOUNT / step) for code, step in MINOR_STEP.items()}  # the ceiling in minor units


# --- money ---------------------------------------------------------------------------------------


def currency_of(code: str, path: str) -> str:
    """An order's ISO-4217 currency, refused at `path` before any amount is read in it."""
    if code not in MINOR_STEP:
        raise MappingError(path, f"not an ISO-4217 code: {shown(code)}")
    return code


def _decimal(value: str | int, path: str) -> Decimal:
    """Decimal text (or a whole number) as a Decimal, unchecked: finite, range and decimals come after."""
    if type(value) is not str and type(value) is not int:  # a bool or a float (never from the wire Structs)
        raise MappingError(path, f"expected decimal text, got {type(value).__name__}")
    try:
        return Decimal(value)
    except InvalidOperation:
        raise MappingError(path, f"not a decimal: {shown(value, 20)}") from None


def amount_of(value: str | int, currency: str, path: str = "") -> Decimal:
    """Decimal text (or a whole number) as an amount of `currency`: finite, 0 or more, below MAX_AMOUNT
    and with no more decimals than the currency allows (the checks Money makes, without building a Money
    for each addend of a total). Without a `path` the caller adds it with `.at()`."""
    if type(value) is not str and type(value) is not int:  # (inlined _decimal: this runs for every addend)
        raise MappingError(path, f"expected decimal text, got {type(value).__name__}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise MappingError(path, f"not a decimal: {shown(value, 20)}") from None
    step = MINOR_STEP.get(currency)
    if step is None:
        raise MappingError(path, f"not an ISO-4217 code: {shown(currency)}")
    if not amount.is_finite():
        raise MappingError(path, "not a finite decimal")
    if not _ZERO <= amount < MAX_AMOUNT:
        raise MappingError(path, f"must be 0 or more and below {MAX_AMOUNT:,}, got {shown(str(amount), 20)}")
    if amount != amount.quantize(step):
        raise MappingError(path, f"{amount} has more decimals than {currency} allows")
    return amount


def money_of(value: str | int, currency: str, path: str) -> Money:
    """Money from decimal text (or a whole number); Money's own checks (finite, 0 or more, below
    MAX_AMOUNT, the currency's decimals) fail as a MappingError at `path`."""
    amount = _decimal(value, path)
    try:
        return Money(amount, currency)
    except InvalidModel as exc:
        raise MappingError(path, exc.message) from None


def minor_money(minor: int, currency: str, path: str) -> Money:
    """Money from an integer count of minor units (TEMU: 1999 is 19.99 USD, 1980 is 1980 JPY) at `path`."""
    if type(minor) is not int:
        raise MappingError(path, f"minor units must be an integer, got {type(minor).__name__}")
    ceiling = _MAX_MINOR.get(currency)
    if ceiling is None:
        raise MappingError(path, f"not an ISO-4217 code: {shown(currency)}")
    if not 0 <= minor < ceiling:  # checked on the integer: no Decimal of a 2**63 count to round
        raise MappingError(path, f"must be 0 or more and below {MAX_AMOUNT:,} major units, got {shown(minor)}")
    return money(Decimal(minor).scaleb(MINOR_STEP[currency].adjusted()), currency, path)


def money(amount: Decimal, currency: str, path: str) -> Money:
    """Money of an amount the mapping computed (a sum, a difference, a unit price from a line total), whose
    refusal (negative, too large, too many decimals) is a MappingError at `path`."""
    try:
        return Money(amount, currency)
    except InvalidModel as exc:
        raise MappingError(path, exc.message) from None


# --- times ---------------------------------------------------------------------------------------


def epoch_time(value: int, path: str) -> datetime:
    """Unix seconds as aware UTC, between 2000 and 2100 (10**20, -1 or 253402300800 is refused at `path`
    before datetime can overflow on it)."""
    if type(value) is not int:
        raise MappingError(path, f"expected unix seconds, got {type(value).__name__}")
    if not EPOCH_EARLIEST <= value < EPOCH_LATEST:
        raise MappingError(path, f"unix time {shown(value)} is not {TIME_RANGE}")
    return datetime.fromtimestamp(value, UTC)


def within(moment: datetime, path: str) -> datetime:
    """An aware datetime, refused at `path` unless it lies between 2000 and 2100 UTC."""
    if not EARLIEST <= moment < LATEST:
        raise MappingError(path, f"time is not {TIME_RANGE}")
    return moment


def as_utc(moment: datetime, path: str = "time") -> datetime:
    """An aware datetime msgspec decoded (with its offset) as UTC; refused at `path` outside 2000 to 2100,
    before the conversion, which overflows on year 1 at +08:00 or year 9999 at -08:00."""
    if moment.tzinfo is UTC:
        return within(moment, path)
    if not 2000 < moment.year < 2099:  # else inside the bounds whatever the offset (comparing costs 1 µs)
        within(moment, path)
    return moment.astimezone(UTC)


# --- quantities and lines ------------------------------------------------------------------------


def quantity_of(value: int, items: str, index: int, field: str) -> int:
    """A line's unit count, 1 to MAX_QUANTITY, checked where the mapping reads it (before it divides a line
    total by it, say); refused at `items[index].field` (the path is built only then: this is per line)."""
    if type(value) is not int or not 0 < value <= MAX_QUANTITY:
        raise MappingError(f"{items}[{index}].{field}",
                           f"must be a whole number from 1 to {MAX_QUANTITY:,}, got {shown(value)}")
    return value


def line_error(exc: InvalidModel, items: str, index: int, raw_names: Mapping[str, str]) -> MappingError:
    """The MappingError for an OrderLine the model refused, at the raw field its value came from:
    `raw_names` maps model fields (quantity, shipped_quantity, ...) to the platform's names inside
    `items[index]`; a field without one is named `items[index] (canonical field)`. A mapping builds its
    lines in a try block and raises this (no wrapper call on every line: lines are the hot path)."""
    raw = raw_names.get(exc.path.partition(".")[0])
    where = f"{items}[{index}]"
    return MappingError(f"{where}.{raw}" if raw else f"{where} (canonical {exc.path})", exc.message)
