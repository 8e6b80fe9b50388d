"""The canonical order model every connector maps into and the rest of Orderhub reads.

Immutable msgspec Structs, validated on construction: an invalid value raises `InvalidModel`
naming the field path. Money is Decimal with an ISO-4217 currency, times are aware UTC, countries
ISO-3166 alpha-2. Platform quirks never reach this module; they are undone in each mapping.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec

from pipeline.countries import is_country
from pipeline.currencies import MINOR_UNITS, is_currency, minor_units
from pipeline.errors import InvalidModel

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


def _invalid(path: str, message: str) -> InvalidModel:
    return InvalidModel(path, message)


def _unknown_platform(platform: object) -> Exception:
    if not PLATFORMS:
        return LookupError("no platform is registered: import connectors.registry, which installs "
                           "pipeline.model.PLATFORMS, before building an Order")
    return _invalid("platform", f"unknown platform {platform!r} (known: {', '.join(sorted(PLATFORMS))})")


def _check_utc(path: str, value: datetime | None) -> None:
    if value is None:
        return
    if not isinstance(value, datetime):
        raise _invalid(path, f"expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() != timedelta(0):
        raise _invalid(path, "must be timezone-aware UTC")


def _all_text(*values: object) -> bool:
    """Every value non-blank text: the usual case, settled in one call (the `_check_*` name the culprit)."""
    for value in values:  # noqa: SIM110 (a plain loop: all() over a generator costs twice as much here)
        if type(value) is not str or not value or value.isspace():
            return False
    return True


def _all_utc(*values: datetime | None) -> bool:
    """Every value None or a datetime in `UTC` itself: the usual case, settled in one call."""
    for value in values:
        if value is not None and (type(value) is not datetime or value.tzinfo is not UTC):
            return False
    return True


def _check_text(path: str, value: object, *, allow_empty: bool = False) -> None:
    if not isinstance(value, str):
        raise _invalid(path, f"expected text, got {type(value).__name__}")
    if not allow_empty and (not value or value.isspace()):
        raise _invalid(path, "must not be empty")


MINOR_STEP = {code: Decimal(1).scaleb(-units) for code, units in MINOR_UNITS.items()}
"""The smallest step of each currency (0.01 USD, 1 JPY), computed once: Money checks it on every construction."""
_ZEROS: dict[str, Money] = {}  # Money.zero's shared instances, by currency


class Money(msgspec.Struct, frozen=True):
    """An exact amount in one ISO-4217 currency; never more decimals than the currency has."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        step = MINOR_STEP.get(self.currency) if isinstance(self.currency, str) else None
        if step is None:
            raise _invalid("currency", f"not an ISO-4217 code: {self.currency!r}")
        if not isinstance(self.amount, Decimal) or not self.amount.is_finite():
            raise _invalid("amount", f"expected a finite Decimal, got {self.amount!r}")
        if self.amount != self.amount.quantize(step):
            raise _invalid("amount", f"{self.amount} has more decimals than {self.currency} allows")

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        """Money from an integer count of minor units (TEMU sends 1999 for 19.99 USD, 1999 for 1999 JPY)."""
        if not isinstance(minor, int) or isinstance(minor, bool):
            raise _invalid("amount", f"minor units must be an integer, got {minor!r}")
        if not is_currency(currency):
            raise _invalid("currency", f"not an ISO-4217 code: {currency!r}")
        return cls(Decimal(minor).scaleb(-minor_units(currency)), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in `currency`: one shared instance per currency (Money is immutable), as totals need many."""
        zero = _ZEROS.get(currency) if cls is Money and isinstance(currency, str) else None
        if zero is None:
            zero = cls(Decimal(0), currency)
            if cls is Money:
                _ZEROS[currency] = zero
        return zero

    def to_minor(self) -> int:
        return int(self.amount.scaleb(minor_units(self.currency)))

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise _invalid("currency", f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def times(self, quantity: int) -> Money:
        return Money(self.amount * quantity, self.currency)


class Address(msgspec.Struct, frozen=True, kw_only=True):
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
            raise _invalid("country", f"not an ISO-3166 alpha-2 code: {self.country!r}")
        if self.pii_complete and not (self.name and self.line1):
            raise _invalid("pii_complete", "an address without name and first street line cannot be complete")


class Totals(msgspec.Struct, frozen=True, kw_only=True):
    items: Money
    shipping: Money
    tax: Money
    discount: Money
    total: Money

    def __post_init__(self) -> None:
        currency = self.items.currency
        if not self.shipping.currency == self.tax.currency == self.discount.currency == self.total.currency == currency:
            for name in ("shipping", "tax", "discount", "total"):  # name the first one that differs
                if getattr(self, name).currency != currency:
                    raise _invalid(name, "all totals must share one currency")


class OrderLine(msgspec.Struct, frozen=True, kw_only=True):
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
        if not self.line_ids:
            raise _invalid("line_ids", "needs at least one non-empty platform line id")
        for line_id in self.line_ids:
            if not line_id or not isinstance(line_id, str):
                raise _invalid("line_ids", "needs at least one non-empty platform line id")
        _check_text("platform_sku", self.platform_sku)
        quantity = self.quantity
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise _invalid("quantity", f"must be a whole number > 0, got {quantity!r}")
        cancelled, shipped = self.cancelled_quantity, self.shipped_quantity
        if not isinstance(cancelled, int) or not 0 <= cancelled <= quantity:
            raise _invalid("cancelled_quantity", f"must be between 0 and quantity {quantity}, got {cancelled!r}")
        if not isinstance(shipped, int) or not 0 <= shipped <= quantity:
            raise _invalid("shipped_quantity", f"must be between 0 and quantity {quantity}, got {shipped!r}")
        if cancelled + shipped > quantity:
            raise _invalid("shipped_quantity", "shipped plus cancelled exceeds quantity")

    @property
    def open_quantity(self) -> int:
        """Units still to ship from a warehouse."""
        return self.quantity - self.cancelled_quantity - self.shipped_quantity


class Order(msgspec.Struct, frozen=True, kw_only=True):
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

    def __post_init__(self) -> None:
        if not _all_text(self.seller, self.shop_id, self.external_id, self.platform_status):
            for name in ("seller", "shop_id", "external_id", "platform_status"):
                _check_text(name, getattr(self, name))
        if self.platform not in PLATFORMS:
            raise _unknown_platform(self.platform)
        if self.key != f"{self.platform}:{self.shop_id}:{self.external_id}":  # pipeline.identity.order_key, inlined
            raise _invalid("key", "must be '{platform}:{shop_id}:{external_id}'")
        if not _all_utc(self.placed_at, self.updated_at, self.ship_by):
            for name in ("placed_at", "updated_at", "ship_by"):
                _check_utc(name, getattr(self, name))
        currency = self.currency
        if not is_currency(currency):
            raise _invalid("currency", f"not an ISO-4217 code: {currency!r}")
        if not self.lines and self.status is not _CANCELLED:
            # Amazon zeroes QuantityOrdered on cancelled items, so a cancelled order may have no line left.
            raise _invalid("lines", "an order needs at least one line unless it is cancelled")
        for i, line in enumerate(self.lines):
            if line.unit_price is not None and line.unit_price.currency != currency:
                raise _invalid(f"lines[{i}].unit_price.currency", f"{line.unit_price.currency} differs from order currency {currency}")
        if self.totals is not None and self.totals.total.currency != currency:
            raise _invalid("totals.total.currency", "differs from order currency")

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


class StockLevel(msgspec.Struct, frozen=True, kw_only=True):
    """What one warehouse reported for one seller SKU at `as_of`."""

    warehouse: str
    seller_sku: str
    on_hand: int
    as_of: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.on_hand, int) or self.on_hand < 0:
            raise _invalid("on_hand", f"must be a whole number >= 0, got {self.on_hand!r}")
        _check_utc("as_of", self.as_of)


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
        _check_text("tracking_number", self.tracking_number)
        _check_text("carrier", self.carrier)
        _check_utc("shipped_at", self.shipped_at)
        if not self.lines or any(line.quantity <= 0 for line in self.lines):
            raise _invalid("lines", "a shipment needs lines with quantity > 0")


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
        _check_utc("at", self.at)


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
