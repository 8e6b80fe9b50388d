"""What a platform's answer means: one default table, and what each platform declares on top of it.

Every client used to restate the same ladder (429 throttled, 5xx retried, 401/403 bad credentials,
other 4xx refused) around its own reading of the body, and the copies had drifted. The ladder is data
here (`DEFAULT`, drawn in connectors/http.py), read one way for every platform. A platform declares
only what is its own, in a `Responses` next to its client:

    read      its error-inside-200 hook: what the body says (a verdict, a code, a message), or nothing;
    codes     its codes that mean an action (throttled, retry, bad credentials, not granted …);
    statuses  rows that differ from the default table, each with a comment saying why (a 429 or
              5xx row decides first; any other row only for a body that says nothing);
    silent    what an answer means whose body says nothing (no envelope), whatever its status;
    hint      how long a throttled call waits, when not as Retry-After says.

A verdict is reached in this order; the first that speaks decides:

    1. throttled, then retry: a 429 or 5xx row, a declared code, or the body saying so. A throttle
       or an outage is never the request's fault, so nothing else overrules it;
    2. the body says the call succeeded;
    3. a declared code;
    4. the body's own verdict (its error envelope: refused);
    5. the body says nothing: the platform's row for the status, else `silent`, else the default row.

The verdict's code is the body's own; else the deciding row's; else the HTTP status (a hook that
names an empty code on purpose returns "", not None). Its message likewise: the body's, else the
row's. A `fixed` row says its own words whatever the body holds.
"""

from __future__ import annotations

import email.utils
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from connectors.exchange import Answer, NoAnswer


class Action(enum.Enum):
    OK = "ok"
    RATE_LIMITED = "rate_limited"
    RETRYABLE = "retryable"
    AUTH = "auth"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Verdict:
    action: Action
    message: str = ""
    retry_after: float | None = None
    code: str = ""


OK = Verdict(Action.OK)
Classifier = Callable[[Answer, Any], Verdict]
TRANSIENT = (Action.RATE_LIMITED, Action.RETRYABLE)  # in this order: a throttle's wait is the better hint


@dataclass(frozen=True)
class Row:
    """One line of a response table: its action, and what the verdict says when the answer itself
    names no reason (`says`) or no code (`code`). A `fixed` row says only its own words (its code,
    else the HTTP status), whatever the body holds: for answers whose body is not the platform's."""

    action: Action
    says: str = ""
    code: str = ""
    fixed: bool = False


# The default response table. Keys: an exact status, else its class ("2xx" is everything below 300,
# "5xx" everything from 500 up, as every client had it). An exact status beats a class.
DEFAULT: Mapping[int | str, Action] = {
    "2xx": Action.OK,
    "3xx": Action.REJECTED,  # a redirect, never followed (connectors/exchange.py): nothing to retry
    "4xx": Action.REJECTED,
    401: Action.AUTH,
    403: Action.AUTH,
    429: Action.RATE_LIMITED,
    "5xx": Action.RETRYABLE,
}
# No answer at all: the connection failed or the platform did not answer in time.
TRANSPORT_ERRORS: Mapping[type[Exception], Action] = {
    NoAnswer: Action.RETRYABLE,  # refused, reset, timed out, bad TLS, proxy down
}


def status_class(status: int) -> str:
    """The table's class of a status: the bounds every client used (below 300 is a success)."""
    return "2xx" if status < 300 else "3xx" if status < 400 else "4xx" if status < 500 else "5xx"


def default_action(status: int) -> Action:
    return DEFAULT.get(status) or DEFAULT[status_class(status)]


def transport_action(error: Exception) -> Action:
    """The table's action for a request that got no answer (`error` is one of TRANSPORT_ERRORS)."""
    return next(action for kind, action in TRANSPORT_ERRORS.items() if isinstance(error, kind))


@dataclass(frozen=True)
class Reading:
    """What a platform's body says, as its hook reads it.

    `action`: the body's own verdict (OK, REJECTED for an error envelope, …); None when the body says
    nothing of the kind (no envelope, a proxy page) and the status has to decide. `code`: the
    platform's code; None when it names none, so that the HTTP status stands in for it."""

    action: Action | None = None
    code: str | None = None
    message: str = ""


SILENT = Reading()


def says_nothing(body: Any) -> Reading:
    """The hook of a platform whose status is the whole verdict."""
    return SILENT


def retry_after_seconds(headers: Mapping[str, str], *names: str, cap: float = 120.0) -> float | None:
    """Seconds from a Retry-After-style header: a number or an HTTP-date, clamped to [0, cap]."""
    for name in names or ("retry-after", "x-retry-after"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            try:
                moment = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                continue
            seconds = (moment - datetime.now(UTC)).total_seconds()
        return max(0.0, min(cap, seconds))
    return None


def fixed_wait(seconds: float) -> Callable[[Mapping[str, str]], float]:
    """A throttle hint for a platform that sends none: always wait `seconds`."""
    return lambda headers: seconds


def by_code(table: Mapping[Action, Iterable[object]]) -> dict[str, Action]:
    """`{action: codes}` as the platform documents them, turned into the `{code: action}` lookup."""
    return {str(code): action for action, codes in table.items() for code in codes}


@dataclass(frozen=True, eq=False)
class Responses:
    """One platform's reading of its answers: the default table plus its declared extras (see the
    module docstring). Callable as the transport's classifier."""

    read: Callable[[Any], Reading] = says_nothing
    codes: Mapping[str, Action] = field(default_factory=dict)
    statuses: Mapping[int | str, Action | Row] = field(default_factory=dict)
    silent: Row | None = None
    hint: Callable[[Mapping[str, str]], float | None] = retry_after_seconds

    def with_codes(self, extra: Mapping[str, Action]) -> Responses:
        """The same reading with more (or overriding) codes: for one API whose codes mean otherwise."""
        return replace(self, codes={**self.codes, **extra})

    def row(self, status: int, *, silent: bool = True) -> Row:
        """The row for a status: the platform's (exact, then class), else `silent` for an answer whose
        body says nothing, else the default table's."""
        for key in (status, status_class(status)):
            if key in self.statuses:
                return _row(self.statuses[key])
        if silent and self.silent is not None:
            return self.silent
        return Row(default_action(status))

    def __call__(self, response: Answer, body: Any) -> Verdict:
        status = response.status_code
        reading = self.read(body)
        coded = self.codes.get(reading.code) if reading.code else None
        for action in TRANSIENT:
            if default_action(status) is action:
                row = self.row(status, silent=False)
                return self._verdict(row.action, reading, status, response.headers, row)
            if action in (coded, reading.action):
                return self._verdict(action, reading, status, response.headers)
        if reading.action is Action.OK:
            return OK
        if coded is not None:
            return self._verdict(coded, reading, status, response.headers)
        if reading.action is not None:
            return self._verdict(reading.action, reading, status, response.headers)
        row = self.row(status)
        return self._verdict(row.action, reading, status, response.headers, row)

    def _verdict(self, action: Action, reading: Reading, status: int, headers: Mapping[str, str],
                 row: Row | None = None) -> Verdict:
        if action is Action.OK:
            return OK
        if row is not None and row.fixed:
            code, message = row.code or str(status), row.says
        else:
            code = reading.code or (row.code if row else "") or (str(status) if reading.code is None else "")
            message = reading.message or (row.says if row else "")
        hint = self.hint(headers) if action is Action.RATE_LIMITED else None
        return Verdict(action, message, hint, code)


def _row(entry: Action | Row) -> Row:
    return entry if isinstance(entry, Row) else Row(entry)
