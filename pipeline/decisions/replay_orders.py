"""The orders a routing what-if replays, from both tiers, each once, as they stood when production routed them.

Which orders: the seller's own (not platform-fulfilled) orders placed in [since, until) that production
routed or held: stage routed, submitted, shipped, held or cancelled (the last only comes after a warehouse
had the order). Left out: orders never routed (no stage, `received`: still pending, waiting for release,
or cancelled before routing), `ignored` ones (the platform fulfils them, or shipped them before any
warehouse had them) and orders held INVALID_PAYLOAD (routing never looked at them).

As they stood: nothing shipped yet (a shipped line needed its units at routing time), and an order the
platform cancelled after routing with nothing cancelled (it held its stock until then). A line cancelled
on an order that is still live is taken as cancelled before routing: the tiers do not say when.

The archive is read in bulk (three queries joined in Python: orders, their lines, their submissions),
not `get_order` per order; the hot tier through hot_orders.py. An order in both tiers (during a move)
counts once, the Redis copy winning: it is the newer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import NamedTuple

import msgspec
from sqlalchemy import Engine, or_, select

from pipeline.archive import schema
from pipeline.archive.reader import snapshot
from pipeline.decisions.hot_orders import hot_orders
from pipeline.model import Address, FulfilledBy, HoldReason, Order, OrderLine, OrderStatus
from pipeline.stages import Stage
from pipeline.store import OrderStore

REPLAYED_STAGES = (Stage.ROUTED, Stage.SUBMITTED, Stage.SHIPPED, Stage.HELD, Stage.CANCELLED)
NOT_ROUTED_HOLDS = (HoldReason.INVALID_PAYLOAD,)

_ADDRESS = msgspec.json.Decoder(Address)
_TEXTS = msgspec.json.Decoder(tuple[str, ...])


class Outcome(NamedTuple):
    """What routing made of one order: the warehouses it went to (one per parcel), or the hold reason.
    Neither: nothing to ship (replayed) or not known (what production recorded has no trace of it)."""

    warehouses: tuple[str, ...] = ()
    hold: str | None = None

    @property
    def routed(self) -> bool:
        return self.hold is None and bool(self.warehouses)

    def label(self, empty: str = "nothing to ship") -> str:
        if self.hold is not None:
            return f"held {self.hold}"
        return "+".join(self.warehouses) if self.warehouses else empty


class ReplayOrder(msgspec.Struct, frozen=True):
    """One order to replay: the order as routing saw it, the tier it was read from, and what production
    recorded (its hold, else the warehouses it went to)."""

    order: Order
    tier: str  # "archive" or "redis"
    recorded: Outcome


class Tiers(msgspec.Struct, frozen=True):
    """How many replayed orders came from where (`both`: in the archive and in Redis, the Redis copy used)."""

    archive: int = 0
    redis: int = 0
    both: int = 0


def merge(archived: Iterable[ReplayOrder], hot: Iterable[ReplayOrder]) -> tuple[list[ReplayOrder], Tiers]:
    """Each order once by key (the Redis copy wins), oldest placed first (ties by key): the replay order."""
    by_key = {item.order.key: item for item in archived}
    archive_only = len(by_key)
    both = redis = 0
    for item in hot:
        both += item.order.key in by_key
        redis += 1
        by_key[item.order.key] = item
    merged = sorted(by_key.values(), key=lambda item: (item.order.placed_at, item.order.key))
    return merged, Tiers(archive=archive_only - both, redis=redis, both=both)


def as_routed(order: Order, stage: str) -> Order:
    """The order as routing saw it (module docstring): nothing shipped; cancelled after routing, nothing cancelled."""
    cancelled_later = stage == Stage.CANCELLED or order.status is OrderStatus.CANCELLED
    if not any(line.shipped_quantity or (cancelled_later and line.cancelled_quantity) for line in order.lines):
        return order
    lines = tuple(msgspec.structs.replace(line, shipped_quantity=0,
                                          cancelled_quantity=0 if cancelled_later else line.cancelled_quantity)
                  for line in order.lines)
    return msgspec.structs.replace(order, lines=lines)


def _replayed(fulfilled_by: str, stage: str, hold: str | None) -> bool:
    return fulfilled_by == FulfilledBy.SELLER and stage in REPLAYED_STAGES and hold not in NOT_ROUTED_HOLDS


def hot_replay_orders(store: OrderStore, seller: str, since: datetime, until: datetime) -> Iterator[ReplayOrder]:
    """The replayed orders Redis holds (module docstring), in no set order. Reads only."""
    for hot in hot_orders(store, seller, since, until):
        hold = hot.hold.reason.value if hot.hold is not None else None
        if not _replayed(hot.order.fulfilled_by, hot.stage, hold):
            continue
        recorded = Outcome(hold=hold) if hold else Outcome(tuple(a.warehouse for a in hot.allocations))
        yield ReplayOrder(as_routed(hot.order, hot.stage), "redis", recorded)


def archived_replay_orders(engine: Engine, seller: str, since: datetime, until: datetime) -> list[ReplayOrder]:
    """The replayed orders the archive holds (module docstring), in no set order. Index: ix_orders_seller_placed."""
    orders, lines, subs = schema.orders, schema.order_lines, schema.order_submissions
    where = (orders.c.seller == seller, orders.c.placed_at >= since, orders.c.placed_at < until,
             orders.c.fulfilled_by == FulfilledBy.SELLER.value,
             orders.c.stage.in_([stage.value for stage in REPLAYED_STAGES]),
             or_(orders.c.hold_reason.is_(None), orders.c.hold_reason.not_in([r.value for r in NOT_ROUTED_HOLDS])))
    head = select(orders.c.id, orders.c.key, orders.c.platform, orders.c.shop_id, orders.c.external_id,
                  orders.c.platform_status, orders.c.status, orders.c.stage, orders.c.hold_reason,
                  orders.c.placed_at, orders.c.updated_at, orders.c.ship_by, orders.c.ship_to,
                  orders.c.currency).where(*where)
    line_query = (select(lines.c.order_id, lines.c.line_ids, lines.c.platform_sku, lines.c.seller_sku,
                         lines.c.quantity, lines.c.cancelled_quantity, lines.c.warehouse)
                  .select_from(lines.join(orders, lines.c.order_id == orders.c.id)).where(*where)
                  .order_by(lines.c.order_id, lines.c.line_no))
    sub_query = (select(subs.c.order_id, subs.c.warehouse)
                 .select_from(subs.join(orders, subs.c.order_id == orders.c.id)).where(*where)
                 .order_by(subs.c.order_id, subs.c.warehouse))
    with snapshot(engine) as conn:
        heads = conn.execute(head).all()
        order_lines: dict[int, list[tuple]] = {}
        for row in conn.execute(line_query):
            order_lines.setdefault(row[0], []).append(row)
        sent: dict[int, list[str]] = {}
        for order_id, warehouse in conn.execute(sub_query):
            sent.setdefault(order_id, []).append(warehouse)
    return [_archived(seller, row, order_lines.get(row[0], []), sent.get(row[0])) for row in heads]


def _archived(seller: str, row: tuple, rows: list[tuple], sent: list[str] | None) -> ReplayOrder:
    (_, key, platform, shop_id, external_id, platform_status, status, stage, hold, placed_at, updated_at, ship_by,
     ship_to, currency) = row
    status = OrderStatus(status)
    cancelled_later = stage == Stage.CANCELLED or status is OrderStatus.CANCELLED
    order = Order(key=key, seller=seller, platform=platform, shop_id=shop_id, external_id=external_id,
                  platform_status=platform_status, status=status, fulfilled_by=FulfilledBy.SELLER,
                  placed_at=placed_at, updated_at=updated_at, currency=currency, ship_by=ship_by,
                  ship_to=_ADDRESS.decode(ship_to) if ship_to is not None else None,
                  lines=tuple(OrderLine(line_ids=_TEXTS.decode(ids), platform_sku=platform_sku, seller_sku=seller_sku,
                                        quantity=quantity, cancelled_quantity=0 if cancelled_later else cancelled)
                              for _, ids, platform_sku, seller_sku, quantity, cancelled, _ in rows))
    if hold is not None:
        recorded = Outcome(hold=hold)
    else:  # the warehouses it was sent to; else those its lines name (a line's one warehouse)
        recorded = Outcome(tuple(sent) if sent else tuple(sorted({r[6] for r in rows if r[6] is not None})))
    return ReplayOrder(order, "archive", recorded)
