"""The canonical order model every connector maps into and the rest of Orderhub reads.

Immutable msgspec Structs, validated on construction: an invalid value raises `InvalidModel`
naming the field path. Money is Decimal with an ISO-4217 currency, times are aware UTC, countries
ISO-3166 alpha-2. Platform quirks never reach this module; they are undone in each mapping.

The order's Structs (Order, OrderLine, Address, and Money and Totals in pipeline/money.py) are `gc=False`:
frozen, and holding only immutable values (text, numbers, Decimal, datetimes, enums, tuples of those and
of each other), they cannot be part of a reference cycle, so the cycle collector need not track the
dozen of them every mapped order makes (bench/normalize.py, issue G). Never give one a mutable field.

Its parts live beside it and are re-exported here, so `from pipeline.model import ...` names them all:
Money and Totals in pipeline/money.py, what warehouses report (StockLevel, Shipment) in
pipeline/warehouse_reports.py, and the field checks every Struct runs in pipeline/model_checks.py.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import UTC, datetime

import msgspec

from pipeline.countries import is_country
from pipeline.currencies import is_currency
from pipeline.model_checks import EARLIEST as EARLIEST
from pipeline.model_checks import LATEST as LATEST
from pipeline.model_checks import (
    check_in_range,
    check_text,
    check_utc,
    invalid,
    shown,
)
from pipeline.money import MAX_AMOUNT as MAX_AMOUNT
from pipeline.money import MINOR_STEP as MINOR_STEP
from pipeline.money import Money, Totals
from pipeline.warehouse_reports import Shipment as Shipment
from pipeline.warehouse_reports import ShipmentLine as ShipmentLine
from pipeline.warehouse_reports import StockLevel as StockLevel

MAX_QUANTITY = 1_000_000
"""Units of one SKU on one order line: more is a broken or hostile payload (2**62 units), never a sale."""

PLATFORMS: frozenset[str] = frozenset()
"""The platform names an Order may carry: the connector registry's. `connectors/registry.py` installs
them with `use_platforms` when it is built (the pipeline never imports a connector); empty until then."""


def use_platforms(names: Iterable[str]) -> None:
    """Install the registered platform names (connectors/registry.py calls it once, when it is built)."""
    global PLATFORMS
    PLATFORMS = frozenset(names)


class OrderStatus(enum.StrEnum):
    PENDING = "PENDING"  # not yet releasable: unpaid, platform hold, TEMU pending
    READY = "READY"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"


_FIRST_YEAR, _END_YEAR = EARLIEST.year, LATEST.year  # Order's range test by year: exact for these bounds
assert (datetime(_FIRST_YEAR, 1, 1, tzinfo=UTC), datetime(_END_YEAR, 1, 1, tzinfo=UTC)) == (EARLIEST, LATEST)
_CANCELLED = OrderStatus.CANCELLED  # a module constant: enum attribute lookups are slow on Python 3.11


class FulfilledBy(enum.StrEnum):
    SELLER = "SELLER"  # ours to route to an overseas warehouse
    PLATFORM = "PLATFORM"  # Amazon AFN, TikTok FBT, TEMU/SHEIN fully managed: recorded, never routed


class HoldReason(enum.StrEnum):
    UNKNOWN_SKU = "UNKNOWN_SKU"
    INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
    NO_WAREHOUSE_FOR_COUNTRY = "NO_WAREHOUSE_FOR_COUNTRY"
    ADDRESS_INCOMPLETE = "ADDRESS_INCOMPLETE"
    INVALID_PAYLOAD = "INVALID_PAYLOAD"
    WAREHOUSE_REJECTED = "WAREHOUSE_REJECTED"
    RETRIES_EXHAUSTED = "RETRIES_EXHAUSTED"
    CANCEL_TOO_LATE = "CANCEL_TOO_LATE"
    # The buyer changed the ship-to after a warehouse had the outbound and the warehouse could not take
    # the change (picked already, or no update call): ops intercept the parcel or re-ship.
    ADDRESS_CHANGED_AFTER_SUBMIT = "ADDRESS_CHANGED_AFTER_SUBMIT"
    INTERNAL_ERROR = "INTERNAL_ERROR"  # our code failed on this order: the detail names the error


class EventKind(enum.StrEnum):
    RECEIVED = "received"
    UPDATED = "updated"
    HELD = "held"
    RELEASED = "released"
    ROUTED = "routed"
    SUBMITTED = "submitted"
    SHIPPED = "shipped"
    TRACKING_PUSHED = "tracking_pushed"
    CANCELLED = "cancelled"
    IGNORED = "ignored"
    ADDRESS_CHANGED = "address_changed"
    NOTE = "note"


def _unknown_platform(platform: object) -> Exception:
    if not PLATFORMS:
        return LookupError("no platform is registered: import connectors.registry, which installs "
                           "pipeline.model.PLATFORMS, before building an Order")
    return invalid("platform", f"unknown platform {platform!r} (known: {', '.join(sorted(PLATFORMS))})")


class Address(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A ship-to address; `pii_complete` is False while the platform masks or withholds buyer details."""

    country: str
    name: str | None = None
    company: str | None = None
    phone: str | None = None
    email: str | None = None
    line1: str | None = None
    line2: str | None = None
    line3: str | None = None
    city: str | None = None
    region: str | None = None
    district: str | None = None
    postal_code: str | None = None
    pii_complete: bool = False

    def __post_init__(self) -> None:
        if not is_country(self.country):
            raise invalid("country", f"not an ISO-3166 alpha-2 code: {self.country!r}")
        if self.pii_complete and not (self.name and self.line1):
            raise invalid("pii_complete", "an address without name and first street line cannot be complete")


class OrderLine(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One SKU on an order. Platforms that send one row per unit are collapsed here to quantity N,
    keeping all N platform ids in `line_ids`, because tracking must be pushed per id."""

    line_ids: tuple[str, ...]
    platform_sku: str
    quantity: int
    title: str = ""
    seller_sku: str | None = None
    cancelled_quantity: int = 0
    shipped_quantity: int = 0
    unit_price: Money | None = None

    def __post_init__(self) -> None:
        line_ids = self.line_ids
        if not line_ids:
            raise invalid("line_ids", "needs at least one non-empty platform line id")
        for line_id in line_ids:
            if not line_id or not isinstance(line_id, str):
                raise invalid("line_ids", "needs at least one non-empty platform line id")
        sku = self.platform_sku
        if type(sku) is not str or not sku or sku.isspace():  # check_text's test, inlined (once per line)
            check_text("platform_sku", sku)
        quantity = self.quantity
        if ((type(quantity) is not int and (not isinstance(quantity, int) or isinstance(quantity, bool)))
                or not 0 < quantity <= MAX_QUANTITY):
            raise invalid("quantity", f"must be a whole number from 1 to {MAX_QUANTITY:,}, got {shown(quantity)}")
        cancelled, shipped = self.cancelled_quantity, self.shipped_quantity
        if not isinstance(cancelled, int) or not 0 <= cancelled <= quantity:
            raise invalid("cancelled_quantity", f"must be between 0 and quantity {quantity}, got {shown(cancelled)}")
        if not isinstance(shipped, int) or not 0 <= shipped <= quantity:
            raise invalid("shipped_quantity", f"must be between 0 and quantity {quantity}, got {shown(shipped)}")
        if cancelled + shipped > quantity:
            raise invalid("shipped_quantity", "shipped plus cancelled exceeds quantity")

    @property
    def open_quantity(self) -> int:
        """Units still to ship from a warehouse."""
        return self.quantity - self.cancelled_quantity - self.shipped_quantity


class Order(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One platform order. Its times lie between 2000 and 2100 (model_checks.EARLIEST/LATEST), its lines
    hold 1 to MAX_QUANTITY units each, its amounts are 0 or more and below MAX_AMOUNT (pipeline/money.py)."""

    key: str
    seller: str
    platform: str
    shop_id: str
    external_id: str
    platform_status: str
    status: OrderStatus
    fulfilled_by: FulfilledBy
    placed_at: datetime
    updated_at: datetime
    currency: str
    lines: tuple[OrderLine, ...]
    ship_by: datetime | None = None
    ship_to: Address | None = None
    totals: Totals | None = None
    payload_hash: str = ""
    # What the mapping left out and an operator should know, e.g. an Amazon item with QuantityOrdered 0
    # (a cancelled item) that became no line. The store writes each to the timeline as a note when the
    # order is stored new or changed. Field paths, ids and SKUs only: never buyer data.
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        seller, shop_id, external_id, platform_status = self.seller, self.shop_id, self.external_id, self.platform_status
        # all_text of the four, inlined (every order): any doubt takes the named checks
        if not (type(seller) is str and seller and not seller.isspace()
                and type(shop_id) is str and shop_id and not shop_id.isspace()
                and type(external_id) is str and external_id and not external_id.isspace()
                and type(platform_status) is str and platform_status and not platform_status.isspace()):
            for name in ("seller", "shop_id", "external_id", "platform_status"):
                check_text(name, getattr(self, name))
        platform = self.platform
        if platform not in PLATFORMS:
            raise _unknown_platform(platform)
        if self.key != f"{platform}:{shop_id}:{external_id}":  # pipeline.identity.order_key, inlined
            raise invalid("key", "must be '{platform}:{shop_id}:{external_id}'")
        placed, updated, ship_by = self.placed_at, self.updated_at, self.ship_by
        # all_utc and all_in_range of the three times, inlined (every order): any doubt takes the named checks.
        # In UTC itself, EARLIEST <= t < LATEST is a test of the year (both bounds are 1 January, 00:00 UTC).
        if not (type(placed) is datetime and placed.tzinfo is UTC and _FIRST_YEAR <= placed.year < _END_YEAR
                and type(updated) is datetime and updated.tzinfo is UTC and _FIRST_YEAR <= updated.year < _END_YEAR
                and (ship_by is None or type(ship_by) is datetime and ship_by.tzinfo is UTC
                     and _FIRST_YEAR <= ship_by.year < _END_YEAR)):
            for name in ("placed_at", "updated_at", "ship_by"):
                check_utc(name, getattr(self, name))
            for name in ("placed_at", "updated_at", "ship_by"):
                check_in_range(name, getattr(self, name))
        currency = self.currency
        if not (type(currency) is str and currency in MINOR_STEP) and not is_currency(currency):
            raise invalid("currency", f"not an ISO-4217 code: {currency!r}")
        lines = self.lines
        if not lines and self.status is not _CANCELLED:
            # Amazon zeroes QuantityOrdered on cancelled items, so a cancelled order may have no line left.
            raise invalid("lines", "an order needs at least one line unless it is cancelled")
        for line in lines:
            price = line.unit_price
            if price is not None and price.currency != currency:
                i = lines.index(line)
                raise invalid(f"lines[{i}].unit_price.currency", f"{price.currency} differs from order currency {currency}")
        totals = self.totals
        if totals is not None and totals.total.currency != currency:
            raise invalid("totals.total.currency", "differs from order currency")

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


class Hold(msgspec.Struct, frozen=True):
    """Why an order cannot go on, in words an operator can act on."""

    reason: HoldReason
    detail: str


class TimelineEvent(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    kind: EventKind
    detail: str = ""
    # Addresses an operator needs beside the event (e.g. "sent" and "now" for a changed ship-to). The
    # detail never carries buyer data; views mask these unless asked for PII.
    addresses: dict[str, Address] = {}

    def __post_init__(self) -> None:
        check_utc("at", self.at)


def utc_now() -> datetime:
    return datetime.now(UTC)


# One encoder/decoder pair for the wire and the store: msgspec JSON keeps Decimal as a string and
# datetimes as RFC 3339, so a round trip is exact.
_ENCODER = msgspec.json.Encoder(decimal_format="string")
_ORDER_DECODER = msgspec.json.Decoder(Order)


def encode(value: msgspec.Struct) -> bytes:
    return _ENCODER.encode(value)


def decode_order(data: bytes) -> Order:
    return _ORDER_DECODER.decode(data)
