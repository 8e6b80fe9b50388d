"""How far Orderhub has taken an order (Stage), and where its outbound stands at a warehouse (OutboundState).

Both are stored and compared as plain strings: the order hash's `stage` field, the `state` of a
recorded Submission, of an OutboundStatus and of an AddressUpdate. They are StrEnums so that the
stored strings stay exactly what they were (a member equals its string, and is written as it), while
a misspelt stage fails at import instead of leaving an order that silently never matches.
"""

from __future__ import annotations

import enum


class Stage(enum.StrEnum):
    """Orderhub's own progress with an order (not the platform's status)."""

    RECEIVED = "received"  # stored; written by the upsert script in pipeline/store_scripts.py, not from here
    ROUTED = "routed"  # stock reserved, not at a warehouse yet
    SUBMITTED = "submitted"  # every allocation is at its warehouse
    SHIPPED = "shipped"  # a warehouse shipped it
    HELD = "held"
    IGNORED = "ignored"  # the platform fulfils it, or it shipped before any warehouse had it
    CANCELLED = "cancelled"  # cancelled by the platform and at every warehouse


UNSETTLED = (Stage.RECEIVED, Stage.ROUTED)
"""Stages whose routing never finished: routing the order again is how it gets done."""

UNSETTLED_RAW = frozenset(stage.encode() for stage in UNSETTLED)
"""UNSETTLED as Redis replies with them (bytes), for the hot reads that never decode."""


class OutboundState(enum.StrEnum):
    """An outbound order's state as Orderhub's warehouse connectors report it."""

    OPEN = "OPEN"
    PICKED = "PICKED"  # AddressUpdate only: too late to re-address (OutboundStatus still says OPEN)
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"
    EXCEPTION = "EXCEPTION"  # the warehouse put it aside
    NOT_FOUND = "NOT_FOUND"  # AddressUpdate only: the warehouse has no outbound under the reference


FINISHED = (OutboundState.SHIPPED, OutboundState.CANCELLED)
"""Outbound states after which the warehouse acts on nothing more (a cancel or a new address)."""
