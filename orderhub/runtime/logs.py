"""structlog, configured once: JSON lines in production, readable console in a terminal.

A redaction processor runs before rendering on every event: values under credential or buyer-PII
keys are masked, and any registered secret value is cut out of every string (exception messages
included), so neither credentials nor buyer details reach a log.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

import orjson
import structlog

MASK = "***"

# Keys whose values are credentials or buyer PII wherever they appear (compared case-insensitively,
# with '-' read as '_').
SENSITIVE_KEYS = frozenset({
    "authorization", "access_token", "refresh_token", "client_secret", "app_secret", "secret", "secret_key",
    "password", "token", "x_amz_access_token", "x_tts_access_token", "restricteddatatoken", "sign",
    "signature", "api_key", "cookie", "session",
    "name", "buyer_name", "buyername", "first_name", "last_name", "firstname", "lastname", "receiptname",
    "contact_person", "phone", "phone_number", "mobile", "mobile_no", "email", "buyer_email", "buyeremail",
    "mail", "line1", "line2", "line3", "address_line1", "address_line2", "address_line3", "addressline1",
    "addressline2", "addressline3", "street", "address", "address_detail", "full_address", "detail_address",
    "recipient", "recipient_address", "ship_to", "shippingaddress",
    # Buyer fields the deny-list once missed (issue 21). Views for people use an allow-list instead
    # (raw_view.py); this list guards the logs.
    "buyer_signer_fullname", "buyer_login_id", "buyer_message", "addresslineall", "address2", "addressext",
    "localized_address", "receiptadditionalname", "backupmobile", "middlename", "taxno", "additionalfirstname",
    "additionallastname",
})

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_secret_pattern: re.Pattern[str] | None = None


def register_secret(value: str) -> None:
    """Remember a secret value so that it is cut out of any logged string (min. 4 characters)."""
    global _secret_pattern
    if not value or len(value) < 4:
        return
    with _secrets_lock:
        if value in _secrets:
            return
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)
        _secret_pattern = re.compile("|".join(re.escape(s) for s in ordered))


def _is_sensitive(key: object) -> bool:
    return isinstance(key, str) and _sensitive_name(key)


@functools.lru_cache(maxsize=4096)
def _sensitive_name(key: str) -> bool:
    """Per distinct key, once: a log line names the same dozen keys every time."""
    return key.lower().replace("-", "_") in SENSITIVE_KEYS


def scrub_text(text: str) -> str:
    pattern = _secret_pattern
    return pattern.sub(MASK, text) if pattern is not None else text


_PLAIN = frozenset({int, float, bool, type(None)})


def redact(value: Any) -> Any:
    """A copy of `value` with sensitive keys masked and registered secrets cut out of strings.

    Every log line passes here, most of its values plain strings and numbers: those are told by their
    exact type first, before the Mapping check (an ABC isinstance, several times slower)."""
    kind = type(value)
    if kind is str:
        return scrub_text(value)
    if kind in _PLAIN:
        return value
    if isinstance(value, Mapping):
        return _masked(value, _is_sensitive)
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, bytes):
        return scrub_text(value.decode("utf-8", "replace"))
    return value


# The buyer inside a canonical Address; the rest of it (country, region, city, district, postcode) says
# where an order goes, which is what an operator needs to see to explain a routing hold.
PERSON_FIELDS = frozenset({"name", "company", "phone", "email", "line1", "line2", "line3"})


def redact_order(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A canonical order (as a dict) for people: `redact` everywhere, except that `ship_to` keeps its
    place fields and masks only the person (name, company, phone, email, street lines)."""
    masked = redact(doc)
    if isinstance(doc.get("ship_to"), Mapping):
        masked["ship_to"] = redact_address(doc["ship_to"])
    return masked


def redact_address(address: Mapping[str, Any]) -> dict[str, Any]:
    """A canonical address (as a dict) for people: the person masked, the place kept."""
    return _masked(address, PERSON_FIELDS.__contains__)


def _masked(mapping: Mapping[Any, Any], hidden: Callable[[Any], bool]) -> dict[Any, Any]:
    """`mapping` with the value of every `hidden` key masked (when it holds anything) and the rest redacted."""
    return {k: MASK if hidden(k) and v not in (None, "") else redact(v) for k, v in mapping.items()}


def _redact_processor(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    return redact(event)


def _json_dumps(obj: Any, **_: Any) -> str:
    return orjson.dumps(obj, default=str).decode()


_configured = False


def configure_logging(*, json: bool | None = None, level: str | None = None, stream: Any = None) -> None:
    """Set up structlog for this process; JSON when LOG_FORMAT=json or stderr is not a terminal."""
    global _configured
    stream = stream or sys.stderr
    if json is None:
        fmt = os.environ.get("LOG_FORMAT", "").lower()
        json = fmt == "json" or (fmt != "console" and not stream.isatty())
    level_name = (level or os.environ.get("LOG_LEVEL", "INFO")).upper()
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_json_dumps)
        if json
        else structlog.dev.ConsoleRenderer(colors=stream.isatty())
    )
    shared = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _redact_processor,
    ]
    # Libraries' own logging (urllib3 logs request lines with query strings) goes through the same
    # redaction, so a secret in a URL is cut out there too.
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(processor=renderer, foreign_pre_chain=shared))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_orderhub", False)]:
        root.removeHandler(old)
    handler._orderhub = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(getattr(logging, level_name, logging.INFO))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            # Plain text tracebacks: structlog's dict tracebacks show locals (tokens) by default.
            structlog.processors.format_exc_info,
            _redact_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level_name, logging.INFO)),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    _configured = True


def ensure_logging() -> None:
    """Configure logging from the environment unless this process already did (entry points call it)."""
    if not _configured:
        configure_logging()


def get_logger(**bound: Any) -> Any:
    if not _configured:
        configure_logging()
    return structlog.get_logger().bind(**bound)
