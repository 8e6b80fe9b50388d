"""The transport every connector calls through: limiter, pooled connections, classification, quick retries.

What an answer means is one default table (connectors/responses.py holds it as data):

    answer                               action          raised here as
    -----------------------------------  --------------  -------------------------------------------
    2xx                                  OK              (returned)
    429                                  RATE_LIMITED    RateLimited, waiting Retry-After (or the
                                                         platform's own hint); the bucket is blocked
    5xx; timeout; connection error       RETRYABLE       UpstreamUnavailable
    401, 403                             AUTH            AuthenticationFailed
    other 4xx, 3xx                       REJECTED        NeedsReview (the platform's code kept)

Each platform declares, next to its client, only what is its own (a `Responses`): the hook that reads
its error-inside-200 envelope, its codes that mean one of these actions, and any row where it differs
from this table, with the reason. 429 and 5xx (and codes saying the same) decide before the body does.

This module turns the verdict into the error tree of pipeline/errors.py. Quick retries (transport
errors, 5xx, 429 with its retry-after) happen here and only here, bounded; long outages are the task
layer's to retry. Request headers and bodies are never logged: they hold tokens and buyer PII.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson
import structlog
import urllib3
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from connectors.exchange import Answer, Pools
from connectors.ratelimit import RateLimiter
from connectors.responses import (
    OK,
    TRANSPORT_ERRORS,
    Action,
    Classifier,
    Verdict,
    retry_after_seconds,
    transport_action,
)
from pipeline.errors import (
    AuthenticationFailed,
    NeedsReview,
    RateLimited,
    RetryableError,
    UpstreamUnavailable,
)
from pipeline.ports import Limit

log = structlog.get_logger()


# Re-exported: connectors and tests import the verdict types from the transport.
__all__ = ["OK", "Action", "Answer", "Classifier", "Transport", "Verdict", "capped", "read_json",
           "retry_after_seconds"]


def _wait(retry_state: Any) -> float:
    """Full-jitter exponential backoff, never shorter than what the platform asked for."""
    backoff = wait_random_exponential(multiplier=0.5, max=20)(retry_state)
    error = retry_state.outcome.exception() if retry_state.outcome else None
    hint = getattr(error, "retry_after", None) or 0.0
    return max(backoff, hint)


NO_ANSWER = tuple(TRANSPORT_ERRORS)  # the exceptions the table maps; anything else is a bug, raised as is
READ_TIMEOUT_CAP = "ORDERHUB_HTTP_READ_TIMEOUT"


def capped(timeout: tuple[float, float]) -> tuple[float, float]:
    """(connect, read) with the read timeout cut to $ORDERHUB_HTTP_READ_TIMEOUT seconds when that is set.

    A worker waiting on a hung platform holds its slot for the whole read timeout; ops whose platforms
    answer fast can free slots sooner (the chaos run sets 5 s, so its 1% of held answers cost seconds,
    not half-minutes). It only ever shortens: a cap above a client's own timeout changes nothing."""
    cap = os.environ.get(READ_TIMEOUT_CAP)
    return (timeout[0], min(timeout[1], float(cap))) if cap else timeout


class Transport:
    """One shop's HTTP connection to one platform; `call` is the only way a client reaches the network."""

    def __init__(
        self,
        platform: str,
        shop_id: str,
        account: str,
        limiter: RateLimiter,
        limits: Mapping[str, Limit],
        *,
        timeout: tuple[float, float] = (5.0, 30.0),
        attempts: int = 4,
        max_retry_seconds: float = 60.0,
    ) -> None:
        self.platform, self.shop_id, self.account = platform, shop_id, account
        self.limiter = limiter
        self.limits = dict(limits)
        self.timeout = capped(timeout)
        self.attempts = attempts
        self.max_retry_seconds = max_retry_seconds
        self.pools = Pools()
        self._timeout = urllib3.Timeout(connect=self.timeout[0], read=self.timeout[1])

    def limit(self, operation: str) -> Limit:
        return self.limits.get(operation) or self.limits.get("*") or Limit(rate=10.0, burst=10)

    def call(self, operation: str, build: Callable[[], dict[str, Any]], classify: Classifier, *,
             attempts: int | None = None) -> tuple[Answer, Any]:
        """Send the request `build()` describes (rebuilt each attempt: timestamps and signatures change),
        retrying transient failures; returns the response and its parsed JSON body (or None).

        `attempts=1` for calls that must not be repeated blindly (creating a warehouse order: the
        caller looks its reference up first)."""
        retrying = Retrying(
            stop=stop_after_attempt(attempts or self.attempts) | stop_before_delay(self.max_retry_seconds),
            wait=_wait,
            retry=retry_if_exception_type(RetryableError),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                return self._once(operation, build(), classify)
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, operation: str, request: dict[str, Any], classify: Classifier) -> tuple[Answer, Any]:
        self.limiter.acquire(self.platform, self.account, operation, self.limit(operation))
        started = time.perf_counter()
        bound = log.bind(platform=self.platform, shop=self.shop_id, operation=operation)
        where = f"{self.platform} {operation}"
        try:
            response = self.pools.send(request, self._timeout)
        except NO_ANSWER as exc:
            bound.warning("platform.call", outcome="transport_error", error=type(exc).__name__)
            verdict = Verdict(transport_action(exc), type(exc).__name__)
            raise self._error(where, operation, verdict, None, bound) from None
        body = _parse(response)
        verdict = classify(response, body)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        bound.debug("platform.call", status=response.status_code, outcome=verdict.action.value,
                    code=verdict.code, elapsed_ms=elapsed_ms)
        if verdict.action is Action.OK:
            return response, body
        raise self._error(where, operation, verdict, response.status_code, bound)

    def _error(self, where: str, operation: str, verdict: Verdict, status: int | None, bound: Any) -> Exception:
        """The pipeline/errors.py error a refusing verdict raises (`status` None: no answer came at all).
        A throttle also blocks the shared bucket for its wait, so other workers do not walk into it."""
        if verdict.action is Action.RATE_LIMITED:
            wait = verdict.retry_after if verdict.retry_after is not None else 1.0
            self.limiter.block(self.platform, self.account, operation, wait)
            bound.warning("platform.throttled", retry_after=wait, code=verdict.code)
            return RateLimited(f"{where}: throttled ({verdict.code or status})", retry_after=wait)
        if verdict.action is Action.RETRYABLE:
            said = verdict.message if status is None else f"{status} {verdict.code} {verdict.message}".strip()
            return UpstreamUnavailable(f"{where}: {said}")
        if verdict.action is Action.AUTH:
            return AuthenticationFailed(self.shop_id, f"{where} refused the credentials: {verdict.code} {verdict.message}")
        return NeedsReview(f"{where} refused the request: {verdict.code} {verdict.message}".strip(), code=verdict.code)


def read_json(content: bytes) -> Any:
    """A response body as the transport reads it (None when empty; ValueError when not JSON). Connectors
    whose platform sends floats that must stay exact declare a reader of their own (SHEIN)."""
    return orjson.loads(content) if content else None


def _parse(response: Answer) -> Any:
    try:
        return read_json(response.content)
    except orjson.JSONDecodeError:
        return None
