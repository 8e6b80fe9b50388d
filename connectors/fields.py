"""Typed reads from platform JSON that fail with the field path, for the mapping modules.

`Doc(value, "order")["OrderTotal"]["Amount"].decimal()` raises MappingError at
`order.OrderTotal.Amount` when the value is missing or of the wrong type. Which format a platform
uses (decimal strings, epoch seconds, UTC+8 strings) stays in its own mapping, which picks the getter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pipeline.errors import InvalidModel, MappingError
from pipeline.model import Order, order_key
from pipeline.ports import BundleIdentity, ShopRef

_MISSING = object()


class Doc:
    """A value inside a raw bundle together with its path."""

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

    def optional(self) -> Doc | None:
        return self if self.present() else None

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

    def text_or(self, default: str | None) -> str | None:
        return self.text() if self.present() and self.value != "" else default

    def integer(self) -> int:
        value = self._need()
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str) and value.strip().lstrip("-").isdigit():
                return int(value)
            raise MappingError(self.path, f"expected a whole number, got {_kind(value)}")
        return value

    def decimal_string(self) -> Decimal:
        """A decimal amount sent as a string (never a JSON number: that would have been a float)."""
        value = self._need()
        if not isinstance(value, str):
            raise MappingError(self.path, f"expected a decimal string, got {_kind(value)}")
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise MappingError(self.path, f"not a decimal: {value[:20]!r}") from None
        if not amount.is_finite():
            raise MappingError(self.path, "not a finite decimal")
        return amount

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
        return moment.astimezone(UTC)

    def epoch_seconds(self) -> datetime:
        value = self._need()
        if isinstance(value, bool) or not isinstance(value, int):
            raise MappingError(self.path, f"expected unix seconds, got {_kind(value)}")
        return datetime.fromtimestamp(value, UTC)

    def items(self) -> list[Doc]:
        value = self._need()
        if not isinstance(value, list):
            raise MappingError(self.path, f"expected a list, got {_kind(value)}")
        return [Doc(item, f"{self.path}[{i}]") for i, item in enumerate(value)]


def _kind(value: Any) -> str:
    if value is _MISSING:
        return "nothing"
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


def order_doc(bundle: Any) -> Doc:
    """The `order` object of a raw bundle, or MappingError at `order`."""
    if not isinstance(bundle, dict) or not isinstance(bundle.get("order"), dict):
        raise MappingError("order", "missing or not an object")
    return Doc(bundle["order"], "order")


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


def canonical_order(shop: ShopRef, external_id: str, **fields: Any) -> Order:
    """The canonical Order of one platform order, keyed to its shop; a value the model refuses is a
    MappingError at `(canonical) <field>`, so a bad payload is held like any other mapping error."""
    try:
        return Order(key=order_key(shop.platform, shop.shop_id, external_id), seller=shop.seller,
                     platform=shop.platform, shop_id=shop.shop_id, external_id=external_id, **fields)
    except InvalidModel as exc:
        raise MappingError(f"(canonical) {exc.path}", exc.message) from None
