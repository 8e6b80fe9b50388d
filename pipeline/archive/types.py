"""Column types that keep the canonical model's two promises in both databases: exact money and aware UTC.

SQLite has neither a decimal nor a timezone-aware time type. SQLAlchemy's Numeric goes through a
float there, which cannot hold the 16 significant digits an amount may need (MAX_AMOUNT with six
decimals), and its DateTime comes back naive. So on SQLite an amount is stored as an integer count of
millionths (exact, and it still sorts and sums) and a time as naive UTC text that is read back aware;
PostgreSQL gets NUMERIC(20, 6) and TIMESTAMPTZ. The migrations import these types: what an existing
type stores must never change (a new storage is a new type and a migration).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

SCALE = 6
"""Decimal places every amount is stored with: more than any ISO-4217 currency has."""
PRECISION = 20


class Amount(TypeDecorator[Decimal]):
    """An exact money amount (its currency is another column): NUMERIC(20, 6), or millionths on SQLite."""

    impl = Numeric(PRECISION, SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[object]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(PRECISION, SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Decimal | int | None:
        if value is None:
            return None
        if not isinstance(value, Decimal) or not value.is_finite():
            raise TypeError(f"an amount must be a finite Decimal, got {type(value).__name__}")
        if value != value.quantize(Decimal(1).scaleb(-SCALE)):
            raise ValueError(f"an amount has at most {SCALE} decimals, got {value}")
        return int(value.scaleb(SCALE)) if dialect.name == "sqlite" else value

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(int(value)).scaleb(-SCALE)  # type: ignore[call-overload]
        return value if isinstance(value, Decimal) else Decimal(str(value))


class UTCDateTime(TypeDecorator[datetime]):
    """An aware time, stored in UTC and always read back aware UTC; a naive time is refused, not guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("the archive stores aware times only, got a naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
