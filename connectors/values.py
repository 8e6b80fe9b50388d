"""Bounded reads of the values every mapping parses: amounts, times, quantities and order lines.

One reader for each, so a hostile value fails the same way on every platform: an amount of "1e400",
"NaN" or "-5", a unix time of 10**20 or -1, a year 9999, a quantity of 2**62 is a MappingError at its
field's path in the raw bundle, which the pipeline holds as INVALID_PAYLOAD with the raw payload kept
(never a traceback, never a READY order). The bounds are the model's: amounts 0 to below MAX_AMOUNT
(pipeline/money.py), times from 2000 to 2100 UTC (pipeline/model_checks.py), 1 to MAX_QUANTITY units a
line (pipeline/model.py); checked here they name the raw field, and the model checks them again.
Which unit or format a platform uses stays in its own mapping, which picks the reader.

Money's checks are made once per amount, here: `money_of` and `minor_money` make them and then copy the
currency's zero with the amount set (Money's `__post_init__` would only make them again); `plain_amounts`
makes them for all of an order's amounts at once, with one regex over their text, and a mapping falls back
to the readers above, field by field, whenever it says no. `checked_money` makes the Money of an amount
computed from checked ones of one currency (a sum of line prices, paid minus items) once the caller made
the checks the arithmetic leaves open (its ceiling; its sign, for a difference): a mapping's totals,
without Money's `__post_init__`; any other amount goes through `money`, which runs them. The zero amounts
platforms write out ("0.00") are one shared Money or Decimal per currency. tests/connectors/test_values.py
holds every reader to Money's verdicts; tests/security/test_mapping_fuzz_fast_paths.py holds each mapping's
fast path to its field-by-field reading (same Order to the byte, same refusal at the same path).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import msgspec

from pipeline.errors import InvalidModel, MappingError
from pipeline.model import EARLIEST, LATEST, MAX_AMOUNT, MAX_QUANTITY, MINOR_STEP, Money
from pipeline.model_checks import TIME_RANGE, shown

EPOCH_EARLIEST, EPOCH_LATEST = int(EARLIEST.timestamp()), int(LATEST.timestamp())
_ZERO = Decimal(0)
_MAX_MINOR = {code: int(MAX_AMOUNT / step) for code, step in MINOR_STEP.items()}  # the ceiling in minor units
_STEP_AND_ZERO = {code: (step, Money.zero(code)) for code, step in MINOR_STEP.items()}  # money_of's
_set_field = msgspec.structs.force_setattr
# minor_money's per currency: (ceiling in minor units, exponent, the Money of 0 minor units once made)
_MINOR: dict[str, tuple[int, int, Money | None]] = {
    code: (_MAX_MINOR[code], step.adjusted(), None) for code, step in MINOR_STEP.items()}
# The zero amounts platforms write out ("0.00" discounts and fees), as the Money each makes in a currency
# (the same Decimal, "0.00" stays "0.00"): Money is immutable, so one instance serves every order.
_ZERO_TEXTS = frozenset({"0", "0.0", "0.00", "0.000", 0})
_ZERO_MONEY: dict[tuple[str | int, str], Money] = {}
_ZERO_DECIMALS = {text: Decimal(text) for text in _ZERO_TEXTS}
assert MAX_AMOUNT == 10**10, "plain_money's patterns allow 10 digits before the point: below MAX_AMOUNT"
# One amount: 1 to 10 digits, then optionally a point and up to the currency's decimals. Possessive (no
# backtracking: digit, point and newline never compete, so the language is the same, matched twice as fast).
_AMOUNT = r"[0-9]{{1,10}}+(?:\.[0-9]{{0,{units}}}+)?+"
_PLAIN = {code: re.compile(f"{_AMOUNT}(?:\n{_AMOUNT})*+".format(units=-step.adjusted()))
          for code, step in MINOR_STEP.items()}


# --- money ---------------------------------------------------------------------------------------


def currency_of(code: str, path: str) -> str:
    """An order's ISO-4217 currency, refused at `path` before any amount is read in it."""
    if code not in MINOR_STEP:
        raise MappingError(path, f"not an ISO-4217 code: {shown(code)}")
    return code


def amount_of(value: str | int, currency: str, path: str = "") -> Decimal:
    """Decimal text (or a whole number) as an amount of `currency`: finite, 0 or more, below MAX_AMOUNT
    and with no more decimals than the currency allows (the checks Money makes, without building a Money
    for each addend of a total). Without a `path` the caller adds it with `.at()`."""
    if type(value) is not str and type(value) is not int:  # (this runs for every addend: no helper call)
        raise MappingError(path, f"expected decimal text, got {type(value).__name__}")
    if value in _ZERO_TEXTS and type(currency) is str and currency in MINOR_STEP:
        return _ZERO_DECIMALS[value]  # "0.00": valid in every currency, one shared (immutable) Decimal
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
    MAX_AMOUNT, the currency's decimals) fail as a MappingError at `path`.

    The hot path of every mapping (most amounts of an order come through here): the same checks as Money's
    `__post_init__`, made here once, and the Money copied from the currency's zero with the amount set (no
    second run of them); when one fails, Money itself is built and raises the model's own message.
    tests/connectors/test_values.py holds it to Money's verdicts."""
    if type(value) is not str and type(value) is not int:
        raise MappingError(path, f"expected decimal text, got {type(value).__name__}")
    shared = value in _ZERO_TEXTS and type(currency) is str
    if shared:  # "0.00" tax, discount, fee: half the amounts of many orders, checked once per currency
        zero = _ZERO_MONEY.get((value, currency))
        if zero is not None:
            return zero
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise MappingError(path, f"not a decimal: {shown(value, 20)}") from None
    entry = _STEP_AND_ZERO.get(currency) if type(currency) is str else None
    if (entry is not None and amount.is_finite() and _ZERO <= amount < MAX_AMOUNT
            and amount == amount.quantize(entry[0])):
        made = entry[1].__copy__()
        _set_field(made, "amount", amount)
    else:
        try:
            made = Money(amount, currency)  # refuses it with the model's own message
        except InvalidModel as exc:
            raise MappingError(path, exc.message) from None
    if shared:
        _ZERO_MONEY[value, currency] = made  # at most len(_ZERO_TEXTS) per currency: the valid ones
    return made


def minor_money(minor: int, currency: str, path: str) -> Money:
    """Money from an integer count of minor units (TEMU: 1999 is 19.99 USD, 1980 is 1980 JPY) at `path`.
    Money's checks run here, on the way: its range on the integer (before any Decimal of a 2**63 count),
    then finite and the currency's decimals hold of the amount by construction (see below); so the Money is
    made without running them again."""
    if type(minor) is not int:
        raise MappingError(path, f"minor units must be an integer, got {type(minor).__name__}")
    entry = _MINOR.get(currency) if type(currency) is str else None
    if entry is None:
        raise MappingError(path, f"not an ISO-4217 code: {shown(currency)}")
    ceiling, exponent, zero = entry
    if not 0 <= minor < ceiling:  # checked on the integer: no Decimal of a 2**63 count to round
        raise MappingError(path, f"must be 0 or more and below {MAX_AMOUNT:,} major units, got {shown(minor)}")
    if not minor and zero is not None:
        return zero  # 0 minor units ("0.00" USD): one shared Money per currency
    # Finite, with no more decimals than the currency has, by construction: an integer below the ceiling
    # (MAX_AMOUNT / step: at most 10**14, for four decimals) has far fewer than Decimal's 28 digits, which
    # scaleb by minus the currency's decimals keeps exactly: the amount is `minor` steps of the currency.
    # So Money's remaining checks hold, unrun (tests/connectors/test_values.py holds it to Money's verdicts).
    made = checked_money(Decimal(minor).scaleb(exponent), currency)
    if not minor:
        _MINOR[currency] = (ceiling, exponent, made)
    return made


def money(amount: Decimal, currency: str, path: str) -> Money:
    """Money of an amount the mapping computed (a sum, a difference, a unit price from a line total), whose
    refusal (negative, too large, too many decimals) is a MappingError at `path`."""
    try:
        return Money(amount, currency)
    except InvalidModel as exc:
        raise MappingError(path, exc.message) from None


def plain_amounts(texts: Sequence[object], currency: str, *, whole: bool = False) -> list[Decimal] | None:
    """The Decimal of every text at once, when each is plain decimal text; None when one is not (or is None).

    Plain: ASCII digits, at most 10 of them before an optional point (MAX_AMOUNT is 10**10), at most the
    currency's decimals after it. Such a text makes a Decimal that passes every check Money makes (finite,
    0 or more, below MAX_AMOUNT, no more decimals than the currency has), so one regex over all of an
    order's amounts makes those checks for the lot (vectorised). Anything else (an exponent, a sign, spaces,
    a number, too many decimals, "NaN", None) makes this None: the mapping then reads each amount with
    `money_of`/`amount_of`, which accept exactly what Money accepts and name the field that fails.
    tests/connectors/test_values.py holds the two to agree. `whole`: an int among the texts is read as its
    digits (SHEIN sends a whole amount as a JSON integer, 0 say); else it makes this None."""
    pattern = _PLAIN.get(currency) if type(currency) is str else None
    if pattern is None:
        return None
    if whole:
        texts = [str(text) if type(text) is int else text for text in texts]
    try:
        joined = "\n".join(texts)
    except TypeError:  # a None, an int (unless `whole`), a float, a bool
        return None
    if pattern.fullmatch(joined) is None or joined.count("\n") != len(texts) - 1:  # no text with its own newline
        return None
    zeros = _ZERO_DECIMALS  # "0.00" and its kind: one shared Decimal each (immutable), no parse
    return [zeros[text] if text in zeros else Decimal(text) for text in texts]


def plain_money(texts: Sequence[object], currency: str, *, whole: bool = False) -> list[Money] | None:
    """`plain_amounts` as Money: each made without running Money's checks again (the regex made them)."""
    amounts = plain_amounts(texts, currency, whole=whole)
    if amounts is None:
        return None
    copy = _STEP_AND_ZERO[currency][1].__copy__
    made = []
    for amount in amounts:  # (a plain loop: faster here than a comprehension and a zip)
        money = copy()
        _set_field(money, "amount", amount)
        made.append(money)
    return made


def checked_money(amount: Decimal, currency: str) -> Money:
    """Money of an amount whose checks (finite, 0 or more, below MAX_AMOUNT, the currency's decimals) the
    caller made, or that holds them by construction (say, a difference of two checked amounts of one
    currency, known to be 0 or more): the currency's zero copied with the amount set, Money's
    `__post_init__` not run again. `currency` must be an ISO-4217 code (a KeyError otherwise). Only for
    such amounts: anything else goes through `money` (or Money itself), which makes the checks."""
    made = _STEP_AND_ZERO[currency][1].__copy__()
    _set_field(made, "amount", amount)
    return made


def money_sum(a: Money, b: Money, currency: str, path: str) -> Money:
    """Two checked amounts of `currency` added (a platform's two discounts): 0 or more, with the currency's
    decimals, by construction, so only the ceiling is open; past it `money` refuses the sum at `path`. The
    same zero twice (one shared "0.00") is returned as it is: their sum is that very Decimal."""
    if a.amount is b.amount and not a.amount:
        return a
    total = a.amount + b.amount
    return checked_money(total, currency) if total < MAX_AMOUNT else money(total, currency, path)


def zero_money(currency: str) -> Money:
    """The shared Money of 0 in an ISO-4217 `currency` (Money.zero's instance, without its call)."""
    return _STEP_AND_ZERO[currency][1]


# --- times ---------------------------------------------------------------------------------------


def epoch_time(value: int, path: str) -> datetime:
    """Unix seconds as aware UTC, between 2000 and 2100 (10**20, -1 or 253402300800 is refused at `path`
    before datetime can overflow on it)."""
    if type(value) is not int:
        raise MappingError(path, f"expected unix seconds, got {type(value).__name__}")
    if not EPOCH_EARLIEST <= value < EPOCH_LATEST:
        raise MappingError(path, f"unix time {shown(value)} is not {TIME_RANGE}")
    return datetime.fromtimestamp(value, UTC)


def check_epochs(placed: int, updated: int, ship_by: int | None, paths: tuple[str, str, str]) -> None:
    """`epoch_time`'s checks on an order's three instants (unix seconds; ship-by may be absent), compared
    at once; only when one fails does `epoch_time` run on each, to name it at its path."""
    if (EPOCH_EARLIEST <= placed < EPOCH_LATEST and EPOCH_EARLIEST <= updated < EPOCH_LATEST
            and (ship_by is None or EPOCH_EARLIEST <= ship_by < EPOCH_LATEST)):
        return
    for value, path in zip((placed, updated, ship_by), paths, strict=True):
        if value is not None:
            epoch_time(value, path)


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
