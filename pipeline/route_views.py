"""What a routing batch shares across its orders (pipeline/route_batch.py): one stock view, the decisions
waiting for the batch's reservation script, and the writes it makes at its end.

Apart from pipeline/release.py, which decides one order and only takes these in.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from pipeline.model import Order
from pipeline.routing import Decision
from pipeline.stock import StockLedger
from pipeline.store_reads import StoredOrder


class Views:
    """A routing batch's stock view: available units per (warehouse, SKU), read once for the batch
    (`StockLedger.view_bulk`) and kept current by subtracting what the batch itself reserves. Another
    router may take stock meanwhile; the reservation script re-checks every unit, and a shortfall
    re-reads the pairs fresh, exactly as a single order's decision does."""

    def __init__(self, ledger: StockLedger, seller: str, units: dict[tuple[str, str], int]) -> None:
        self.ledger, self.seller, self.units = ledger, seller, units
        self.pending: dict[tuple[str, str], int] = {}  # taken by decisions the batch has not reserved yet

    def get(self, pairs: list[tuple[str, str]], fresh: bool = False) -> dict[tuple[str, str], int]:
        missing = pairs if fresh else [pair for pair in pairs if pair not in self.units]
        if missing:  # what the ledger says, less what this batch's decisions are about to reserve
            read = self.ledger.view(self.seller, missing)
            self.units.update({pair: max(0, n - self.pending.get(pair, 0)) for pair, n in read.items()})
        return {pair: self.units[pair] for pair in pairs}

    def take(self, allocations, pending: bool = False) -> None:
        for allocation in allocations:
            for sku, qty in allocation.lines:
                pair = (allocation.warehouse, sku)
                if pending:
                    self.pending[pair] = self.pending.get(pair, 0) + qty
                if pair in self.units:
                    self.units[pair] = max(0, self.units[pair] - qty)

    def settle(self) -> None:
        """The batch's reservations are in the ledger now: a fresh read needs nothing taken off it."""
        self.pending.clear()


class Pending(msgspec.Struct, frozen=True):
    """A routed decision waiting for its reservation: the order as read under its lease, SKUs mapped."""

    key: str
    stored: StoredOrder
    order: Order
    decision: Decision
    at: datetime  # when it was decided: the time its routed event carries


class Batch(msgspec.Struct):
    """A routing batch's deferred work: the decisions to reserve together (`pending`); and the (key, kind,
    detail, when decided) of each order routed, whose stage and event it writes at its end."""

    pending: list = msgspec.field(default_factory=list)
    routed: list = msgspec.field(default_factory=list)
