"""What a warehouse reports back: stock levels and shipments, in the canonical model's terms.

Warehouse connectors map their WMS responses into these, as platform connectors map orders into
pipeline/model.py (which re-exports them); each is validated on construction like the rest of the model.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from pipeline.model_checks import check_text, check_utc, invalid


class StockLevel(msgspec.Struct, frozen=True, kw_only=True):
    """What one warehouse reported for one seller SKU at `as_of`."""

    warehouse: str
    seller_sku: str
    on_hand: int
    as_of: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.on_hand, int) or self.on_hand < 0:
            raise invalid("on_hand", f"must be a whole number >= 0, got {self.on_hand!r}")
        check_utc("as_of", self.as_of)


class ShipmentLine(msgspec.Struct, frozen=True):
    seller_sku: str
    quantity: int


class Shipment(msgspec.Struct, frozen=True, kw_only=True):
    order_key: str
    warehouse: str
    carrier: str
    tracking_number: str
    shipped_at: datetime
    lines: tuple[ShipmentLine, ...]

    def __post_init__(self) -> None:
        check_text("tracking_number", self.tracking_number)
        check_text("carrier", self.carrier)
        check_utc("shipped_at", self.shipped_at)
        if not self.lines or any(line.quantity <= 0 for line in self.lines):
            raise invalid("lines", "a shipment needs lines with quantity > 0")
