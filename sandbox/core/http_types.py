"""The emulators' HTTP vocabulary: a parsed ``Request``, the ``Response`` a handler returns, a ``Route``.

Kept apart from the server so that handlers and the ``/_sandbox/`` control API (``sandbox.core.control``)
can build answers without importing the ``Emulator`` base that mounts them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: Mapping[str, str]  # case-insensitive (http.client.HTTPMessage)
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # path parameters
    caller: Any = None  # whatever the emulator's authenticate() returned

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError on a body that is not JSON."""
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def json_object(self) -> dict[str, Any] | None:
        """The body parsed as a JSON object; None for a body that is anything else, JSON or not."""
        try:
            body = self.json()
        except ValueError:  # a UnicodeDecodeError is one too
            return None
        return body if isinstance(body, dict) else None


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
        body = json.dumps(payload, ensure_ascii=False, default=_json_default).encode("utf-8")
        return cls(status, body, {"Content-Type": "application/json", **(headers or {})})


DROP = Response(-1)  # sentinel: close the connection without answering
Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # "/orders/v0/orders/{orderId}/orderItems"
    operation: str  # name used for buckets, counters and fault filters
    handler: Handler
    auth: bool = True  # False: token endpoints, control API
    control: bool = False  # the /_sandbox/ API: never faulted, never counted
    pattern: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
