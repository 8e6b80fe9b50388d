"""What one archived order is, as the archive stores and returns it: the canonical order's fields plus
what Orderhub did with it (stage, hold, submissions, shipments, timeline) and its raw payload.

Flat on purpose: reading an order back needs neither the connector registry nor the seller config,
and `to_order` rebuilds the canonical Order when a caller wants one. Money stays Money (an exact
Decimal in the order's currency) and every time aware UTC. The raw payload is kept as Redis held it;
it is compressed only on the way into the database (`compress_raw`), under a codec the row names.
Built from the Redis store by pipeline/archive/build.py.
"""

from __future__ import annotations

import enum
import zlib
from datetime import date, datetime

import msgspec

from pipeline.model import (
    Address,
    FulfilledBy,
    Hold,
    Money,
    Order,
    OrderLine,
    OrderStatus,
    ShipmentLine,
    TimelineEvent,
    Totals,
)
from pipeline.model_checks import check_utc, invalid

RAW_CODEC = "zlib"
"""How new rows compress `orders.raw`; older codecs stay readable as long as `decompress_raw` knows them."""
SCRUBBED = "scrubbed"
"""The codec of a raw payload removed with the buyer's data (pipeline/archive/scrub.py): it reads back empty."""


class Tracking(enum.StrEnum):
    """Where a shipment's tracking stands with the platform."""

    PENDING = "pending"  # neither accepted nor refused yet
    PUSHED = "pushed"
    REFUSED = "refused"


class ArchivedLine(msgspec.Struct, frozen=True, kw_only=True):
    """One order line. `seller_sku` is the SKU the seller map gave it when archived; `warehouse` is the
    one warehouse that had it (None: it never reached one, or was split across several)."""

    line_no: int
    line_ids: tuple[str, ...]
    platform_sku: str
    quantity: int
    title: str = ""
    seller_sku: str | None = None
    cancelled_quantity: int = 0
    shipped_quantity: int = 0
    unit_price: Money | None = None
    warehouse: str | None = None


class ArchivedSubmission(msgspec.Struct, frozen=True, kw_only=True):
    """An outbound order a warehouse confirmed, with when it was sent and, if so, cancelled."""

    warehouse: str
    reference: str
    remote_id: str
    state: str  # a pipeline.stages.OutboundState
    submitted_at: datetime | None = None
    cancelled_at: datetime | None = None


class ArchivedShipment(msgspec.Struct, frozen=True, kw_only=True):
    """What one warehouse shipped for the order, and where its tracking stands with the platform."""

    warehouse: str
    carrier: str
    tracking_number: str
    shipped_at: datetime
    lines: tuple[ShipmentLine, ...]
    tracking: Tracking = Tracking.PENDING
    tracking_pushed_at: datetime | None = None
    tracking_refusal: str | None = None


class ArchivedOrder(msgspec.Struct, frozen=True, kw_only=True):
    """One order as archived; `(seller, key)` identifies it. Buyer PII: `ship_to`, `raw` and the
    timeline's addresses (never to be logged)."""

    seller: str
    key: str
    platform: str
    shop_id: str
    external_id: str
    platform_status: str
    status: OrderStatus
    fulfilled_by: FulfilledBy
    placed_at: datetime
    updated_at: datetime
    currency: str
    payload_hash: str
    raw: bytes
    lines: tuple[ArchivedLine, ...]
    stage: str = ""  # a pipeline.stages.Stage, "" before any
    hold: Hold | None = None
    ship_by: datetime | None = None
    closed_at: datetime | None = None
    totals: Totals | None = None
    ship_to: Address | None = None
    notes: tuple[str, ...] = ()
    submissions: tuple[ArchivedSubmission, ...] = ()
    shipments: tuple[ArchivedShipment, ...] = ()
    timeline: tuple[TimelineEvent, ...] = ()

    def __post_init__(self) -> None:
        for name in ("placed_at", "updated_at", "ship_by", "closed_at"):
            check_utc(name, getattr(self, name))
        for i, line in enumerate(self.lines):
            if line.unit_price is not None and line.unit_price.currency != self.currency:
                raise invalid(f"lines[{i}].unit_price.currency", "differs from the order currency")
        if self.totals is not None and self.totals.total.currency != self.currency:
            raise invalid("totals.total.currency", "differs from the order currency")

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def destination_country(self) -> str | None:
        return self.ship_to.country if self.ship_to is not None else None

    def to_order(self) -> Order:
        """The canonical order again (its lines carry the archived seller SKUs). Needs the platform
        names registered, as every Order does (connectors/registry.py)."""
        return Order(
            key=self.key, seller=self.seller, platform=self.platform, shop_id=self.shop_id,
            external_id=self.external_id, platform_status=self.platform_status, status=self.status,
            fulfilled_by=self.fulfilled_by, placed_at=self.placed_at, updated_at=self.updated_at,
            currency=self.currency, ship_by=self.ship_by, ship_to=self.ship_to, totals=self.totals,
            payload_hash=self.payload_hash, notes=self.notes,
            lines=tuple(OrderLine(line_ids=line.line_ids, platform_sku=line.platform_sku, quantity=line.quantity,
                                  title=line.title, seller_sku=line.seller_sku,
                                  cancelled_quantity=line.cancelled_quantity, shipped_quantity=line.shipped_quantity,
                                  unit_price=line.unit_price)
                        for line in self.lines),
        )


class OrderSummary(msgspec.Struct, frozen=True, kw_only=True):
    """One order in a list (pipeline/archive/reader.py `orders_of_seller`): no lines, no payload."""

    key: str
    platform: str
    shop_id: str
    external_id: str
    status: OrderStatus
    fulfilled_by: FulfilledBy
    stage: str
    hold_reason: str | None
    placed_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    destination_country: str | None
    currency: str
    total: Money | None
    units: int


class SkuDay(msgspec.Struct, frozen=True, kw_only=True):
    """A seller SKU's order lines placed on one UTC day, at one warehouse (None: none or several)."""

    day: date
    warehouse: str | None
    lines: int
    orders: int
    units: int
    cancelled_units: int
    shipped_units: int


class StockSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """A seller SKU's stock at one warehouse on one UTC day, as the ledger counted it at `taken_at`."""

    seller: str
    day: date
    warehouse: str
    seller_sku: str
    on_hand: int
    reserved: int
    in_doubt: int
    shipped: int
    taken_at: datetime

    def __post_init__(self) -> None:
        check_utc("taken_at", self.taken_at)


def compress_raw(raw: bytes) -> tuple[bytes, str]:
    """The raw payload as stored, and the codec that reads it back."""
    return zlib.compress(raw, 6), RAW_CODEC


def decompress_raw(data: bytes, codec: str) -> bytes:
    if codec == "zlib":
        return zlib.decompress(data)
    if codec == SCRUBBED:
        return b""
    raise ValueError(f"unknown raw payload codec {codec!r}")
