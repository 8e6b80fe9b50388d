"""Canonical orders for tests that need many valid ones quickly (not for mapping tests: those use
recorded platform payloads under tests/fixtures/)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import orjson

import connectors.registry  # noqa: F401 (installs the registered platform names Order validation reads)
from pipeline.identity import order_key
from pipeline.model import Address, FulfilledBy, Money, Order, OrderLine, OrderStatus
from pipeline.store import Received

BASE_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def make_order(
    n: int,
    *,
    version: int = 0,
    status: OrderStatus = OrderStatus.READY,
    seller: str = "acme",
    platform: str = "amazon",
    shop_id: str = "shop-1",
    buyer: str = "Jane Placeholder",
) -> Order:
    external_id = f"ORD-{n:07d}"
    return Order(
        key=order_key(platform, shop_id, external_id),
        seller=seller,
        platform=platform,
        shop_id=shop_id,
        external_id=external_id,
        platform_status=status.value.lower(),
        status=status,
        fulfilled_by=FulfilledBy.SELLER,
        placed_at=BASE_TIME,
        updated_at=BASE_TIME + timedelta(minutes=version),
        currency="USD",
        lines=(
            OrderLine(
                line_ids=(f"{external_id}-1",),
                platform_sku=f"SKU-{n % 40}",
                quantity=1 + n % 3,
                unit_price=Money(Decimal("12.50"), "USD"),
            ),
        ),
        ship_to=Address(country="US", name=buyer, line1="1 Test Street", city="Austin", pii_complete=True),
    )


def received(order: Order, raw: dict | None = None) -> Received:
    """What a sync would store for `order`: its raw bundle and the hash of that bundle."""
    raw_bytes = orjson.dumps(raw or {"id": order.external_id, "v": order.updated_at.isoformat(), "s": order.status})
    return Received(
        key=order.key,
        platform=order.platform,
        shop_id=order.shop_id,
        raw=raw_bytes,
        payload_hash=hashlib.sha256(raw_bytes).hexdigest(),
        updated_at=order.updated_at,
        order=order,
    )
