"""What the pipeline asks of a warehouse's WMS: the client Protocol and the plain data it takes and returns.

The warehouse side of pipeline/ports.py (which re-exports every name here and holds `WarehouseSpec`, the
record a warehouse connector declares). Like the platform ports, nothing here imports a connector.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import msgspec


class OutboundLine(msgspec.Struct, frozen=True):
    seller_sku: str
    quantity: int


class OutboundRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What one warehouse is asked to ship for one order: everything a WMS create call needs.

    `reference` is derived from the order key and the warehouse, so every retry names the same
    outbound order and the warehouse (or our lookup before a retry) can refuse a second one.
    """

    reference: str
    order_key: str
    platform: str
    external_id: str
    lines: tuple[OutboundLine, ...]
    ship_to: Any  # pipeline.model.Address with complete PII
    currency: str
    shipping_method: str = ""


class OutboundStatus(msgspec.Struct, frozen=True, kw_only=True):
    """A warehouse's view of one outbound order."""

    reference: str
    remote_id: str
    state: str  # a pipeline.stages.OutboundState: OPEN | SHIPPED | CANCELLED | EXCEPTION
    carrier: str = ""
    tracking_number: str = ""
    shipped_at: datetime | None = None
    lines: tuple[OutboundLine, ...] = ()
    detail: str = ""


class AddressUpdate(msgspec.Struct, frozen=True, kw_only=True):
    """What a warehouse did with a changed ship-to for an outbound order it already has."""

    reference: str
    applied: bool  # the outbound now ships to the new address
    state: str  # the outbound's state, a pipeline.stages.OutboundState (OPEN | PICKED | SHIPPED | NOT_FOUND ...)
    detail: str = ""  # why not applied, in the warehouse's words (no buyer data)


class WarehouseClient(Protocol):
    """One configured warehouse's authenticated connection to its WMS."""

    def submit(self, request: OutboundRequest) -> OutboundStatus:
        """Create the outbound order once: on an ambiguous failure look the reference up before retrying;
        a reference the warehouse already has returns that order, never a second one."""

    def find(self, reference: str) -> OutboundStatus | None: ...

    def cancel(self, reference: str) -> OutboundStatus:
        """Cancel if not shipped; the returned state says what happened (SHIPPED = too late)."""

    def update_address(self, reference: str, ship_to: Any) -> AddressUpdate:
        """Send a changed ship-to (pipeline.model.Address) to an outbound order already submitted.

        Applied only while the warehouse still allows it (not picked, packed or shipped); otherwise
        `applied` is False and `detail` says why in the warehouse's words. Never creates an outbound."""

    bounds_shipment_reads: bool
    """Whether `shipments_since` honours `until` (the WMS filters on an end time too), so the
    shipment poll can read a long window in slices and move its cursor after each one."""

    def shipments_since(self, since: datetime, until: datetime | None = None) -> list[OutboundStatus]:
        """Outbound orders that shipped (with carrier and tracking) or failed since `since`, up to
        `until` where the warehouse can bound it (None: as far ahead as the warehouse allows)."""

    def inventory(self) -> list[Any]:
        """pipeline.model.StockLevel per seller SKU held in this warehouse."""

