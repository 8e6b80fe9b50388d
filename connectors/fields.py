"""Typed reads from platform JSON that fail with the field path, for the mapping modules.

The hot path: `decode_bundle` turns a bundle's bytes into the platform's wire Structs
(`connectors/<platform>/wire.py`) in one msgspec call, which checks every type in C; a wrong or
missing field becomes a MappingError at its path, e.g. `order.OrderTotal.Amount`. What msgspec
cannot check (decimal text, a platform's own time format), or bounds it must keep (amounts, times,
quantities), is read by the bounded readers of connectors/values.py, re-exported here. `Doc` is the
slow, forgiving reader `identify` uses on a bundle that did not map. Which format a platform uses
stays in its own mapping, which picks the reader.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

import msgspec

from connectors.values import amount_of as amount_of
from connectors.values import as_utc as as_utc
from connectors.values import epoch_time, within
from connectors.values import money as money
from pipeline.errors import InvalidModel, MappingError
from pipeline.identity import order_key
from pipeline.model import Address, FulfilledBy, Order, OrderLine, OrderStatus, Totals
from pipeline.ports import BundleIdentity, ShopRef

_MISSING = object()
W = TypeVar("W")

Text = Annotated[str, msgspec.Meta(min_length=1)]
"""A string that must not be empty (an id, a SKU, a status)."""
Id = Text | int
"""An id some platforms send as a JSON number: read it with `str()`."""
IsoTime = Annotated[datetime, msgspec.Meta(tz=True)]
"""An RFC 3339 instant with an offset or Z (msgspec parses it in C); make it UTC with `as_utc`."""


def decode_bundle(decoder: msgspec.json.Decoder[W], raw: bytes) -> W:
    """A bundle's bytes as its platform's wire Structs; a wrong type or a missing field is a MappingError
    at its path (msgspec's `$.order.items[0].price` becomes `order.items[0].price`)."""
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise _at_path(str(exc)) from None
    except msgspec.DecodeError:
        raise MappingError("bundle", "the bundle is not JSON") from None


def _at_path(text: str) -> MappingError:
    message, _, where = text.partition(" - at `$")
    path = where.rstrip("`").lstrip(".")
    prefix = "Object missing required field `"
    if message.startswith(prefix):  # named like the Doc getters did: the missing field's own path
        field = message[len(prefix):].rstrip("`")
        path, message = (f"{path}.{field}" if path else field), "missing"
    return MappingError(path or "bundle", message)


def decimal_text(value: str, path: str = "") -> Decimal:
    """A decimal sent as a string (never a JSON number: that would have been a float), unbounded: a
    mapping reads amounts with `amount_of`/`money_of` (connectors/values.py), which also bound them."""
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise MappingError(path, f"not a decimal: {value[:20]!r}") from None
    if not amount.is_finite():
        raise MappingError(path, "not a finite decimal")
    return amount


class Doc:
    """A value inside a raw dict bundle together with its path: for `identify`, which must read what
    it can from a bundle that did not decode (slow and forgiving; mapping never uses it)."""

    __slots__ = ("path", "value")

    def __init__(self, value: Any, path: str) -> None:
        self.value = value
        self.path = path

    def __getitem__(self, key: str | int) -> Doc:
        child = f"{self.path}[{key}]" if isinstance(key, int) else f"{self.path}.{key}"
        if isinstance(key, int):
            if not isinstance(self.value, list) or not -len(self.value) <= key < len(self.value):
                raise MappingError(child, "missing")
            return Doc(self.value[key], child)
        if not isinstance(self.value, dict):
            raise MappingError(self.path, f"expected an object, got {_kind(self.value)}")
        return Doc(self.value.get(key, _MISSING), child)

    def present(self) -> bool:
        return self.value is not _MISSING and self.value is not None

    def _need(self) -> Any:
        if not self.present():
            raise MappingError(self.path, "missing")
        return self.value

    def text(self) -> str:
        value = self._need()
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise MappingError(self.path, f"expected text, got {_kind(value)}")
        text = str(value).strip()
        if not text:
            raise MappingError(self.path, "empty")
        return text

    def iso_time(self) -> datetime:
        """An ISO-8601 instant with an offset or Z, as aware UTC."""
        value = self._need()
        if not isinstance(value, str):
            raise MappingError(self.path, f"expected an ISO-8601 time, got {_kind(value)}")
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise MappingError(self.path, f"not an ISO-8601 time: {value[:30]!r}") from None
        if moment.tzinfo is None:
            raise MappingError(self.path, "time has no UTC offset")
        return within(moment, self.path).astimezone(UTC)

    def epoch_seconds(self) -> datetime:
        value = self._need()
        if isinstance(value, bool) or not isinstance(value, int):
            raise MappingError(self.path, f"expected unix seconds, got {_kind(value)}")
        return epoch_time(value, self.path)

def _kind(value: Any) -> str:
    if value is _MISSING:
        return "nothing"
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


def identify_order(bundle: Any, id_field: str, updated: Callable[[Doc], datetime]) -> BundleIdentity:
    """What can be read from a possibly broken bundle: its order id and update time, never raising."""
    order = bundle.get("order") if isinstance(bundle, dict) else None
    if not isinstance(order, dict):
        return BundleIdentity(None, None)
    value = order.get(id_field)
    external_id = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
    try:
        moment = updated(Doc(order, "order"))
    except MappingError:
        moment = None
    return BundleIdentity(external_id, moment)


def canonical_order(shop: ShopRef, external_id: str | int, *, platform_status: str, status: OrderStatus,
                    fulfilled_by: FulfilledBy, placed_at: datetime, updated_at: datetime, currency: str,
                    lines: tuple[OrderLine, ...], ship_by: datetime | None = None, ship_to: Address | None = None,
                    totals: Totals | None = None, notes: tuple[str, ...] = ()) -> Order:
    """The canonical Order of one platform order, keyed to its shop (an id sent as a number is its text);
    a value the model refuses is a MappingError at `(canonical) <field>`, so a bad payload is held like
    any other mapping error. The fields are named, not passed on as **kwargs: every order of every sync
    comes through here, and packing them into a dict and out again cost more than Order itself."""
    external_id = external_id if type(external_id) is str else str(external_id)
    try:
        return Order(key=order_key(shop.platform, shop.shop_id, external_id), seller=shop.seller,
                     platform=shop.platform, shop_id=shop.shop_id, external_id=external_id,
                     platform_status=platform_status, status=status, fulfilled_by=fulfilled_by, placed_at=placed_at,
                     updated_at=updated_at, currency=currency, lines=lines, ship_by=ship_by, ship_to=ship_to,
                     totals=totals, notes=notes)
    except InvalidModel as exc:
        raise canonical_error(exc) from None


def canonical_error(exc: InvalidModel) -> MappingError:
    """The MappingError of an Order the model refused: at `(canonical) <field>`, held like any other."""
    return MappingError(f"(canonical) {exc.path}", exc.message)
