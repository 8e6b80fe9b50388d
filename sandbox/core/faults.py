"""Fault injection for the emulators: the bad days of a real marketplace, on demand and repeatable.

Per-request faults (5xx, forced throttling, latency, held responses, hang-ups, dropped responses)
draw from a seeded RNG. Per-order faults (malformed payloads, duplicates across pages) are chosen
by hashing the order id with the seed, so the same order misbehaves the same way every time.
"""

from __future__ import annotations

import hashlib
import random
import threading
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any


@dataclass
class FaultConfig:
    """Every knob; all default to "no fault". ``operations`` limits request faults to some ops."""

    seed: int = 0
    error_rate: float = 0.0  # answer 500/503 instead of performing the call
    throttle_rate: float = 0.0  # answer the platform's throttling response although a token was free
    latency_ms: int = 0  # added to every answer
    timeout_rate: float = 0.0  # hold the answer for timeout_seconds (longer than a client timeout)
    timeout_seconds: float = 5.0
    hangup_rate: float = 0.0  # close the connection without answering; the call is NOT performed
    drop_response_rate: float = 0.0  # perform the call, then close the connection without answering
    malformed_rate: float = 0.0  # share of orders rendered with a missing or mistyped field
    duplicate_rate: float = 0.0  # share of page boundaries where the last order repeats on the next page
    operations: list[str] | None = field(default=None)

    def validate(self) -> None:
        for name in ("error_rate", "throttle_rate", "timeout_rate", "hangup_rate",
                     "drop_response_rate", "malformed_rate", "duplicate_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.latency_ms < 0 or self.timeout_seconds < 0:
            raise ValueError("latency_ms and timeout_seconds must be >= 0")


class RequestFault(StrEnum):
    NONE = "none"
    ERROR = "error"
    THROTTLE = "throttle"
    HANGUP = "hangup"


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one request, decided before it runs."""

    fault: RequestFault = RequestFault.NONE
    delay_seconds: float = 0.0  # latency plus any hold
    drop_response: bool = False
    error_status: int = 500


_KNOBS = {f.name for f in fields(FaultConfig)}


class FaultInjector:
    """Holds the current FaultConfig and makes the seeded decisions."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.config = config or FaultConfig()
        self._rng = random.Random(self.config.seed)

    def configure(self, **knobs: Any) -> FaultConfig:
        """Replace the configuration (unset knobs go back to their defaults); ``{}`` resets."""
        unknown = set(knobs) - _KNOBS
        if unknown:
            raise ValueError(f"unknown fault knob(s) {sorted(unknown)}; known: {sorted(_KNOBS)}")
        config = FaultConfig(**knobs)
        config.validate()
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)
        return config

    def as_dict(self) -> dict[str, Any]:
        return asdict(self.config)

    def applies_to(self, operation: str) -> bool:
        ops = self.config.operations
        return ops is None or operation in ops

    def plan(self, operation: str) -> FaultPlan:
        """Roll the per-request dice for one call of ``operation``."""
        config = self.config
        if not self.applies_to(operation):
            return FaultPlan()
        with self._lock:
            rng = self._rng
            delay = config.latency_ms / 1000.0
            if config.timeout_rate and rng.random() < config.timeout_rate:
                delay += config.timeout_seconds
            fault = RequestFault.NONE
            if config.hangup_rate and rng.random() < config.hangup_rate:
                fault = RequestFault.HANGUP
            elif config.error_rate and rng.random() < config.error_rate:
                fault = RequestFault.ERROR
            elif config.throttle_rate and rng.random() < config.throttle_rate:
                fault = RequestFault.THROTTLE
            drop = bool(config.drop_response_rate) and rng.random() < config.drop_response_rate
            status = rng.choice((500, 503))
        return FaultPlan(fault, delay, drop, status)

    def malformation(self, order_id: str, variants: int) -> int | None:
        """Which of ``variants`` malformations this order gets, or None if it renders cleanly.

        Chosen by hashing (seed, order id), so an order stays malformed in the same way across
        pages, calls and restarts as long as the seed and the rate are unchanged.
        """
        rate = self.config.malformed_rate
        if rate <= 0 or variants <= 0:
            return None
        if _unit_hash(self.config.seed, "malformed", order_id) >= rate:
            return None
        return int(_unit_hash(self.config.seed, "variant", order_id) * variants) % variants

    def duplicates_after(self, order_id: str) -> bool:
        """Whether the page that ends with ``order_id`` repeats it at the start of the next page."""
        rate = self.config.duplicate_rate
        return rate > 0 and _unit_hash(self.config.seed, "duplicate", order_id) < rate


def _unit_hash(seed: int, purpose: str, key: str) -> float:
    digest = hashlib.sha256(f"{seed}:{purpose}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
