"""The orders a what-if replays: read in bulk from the archive (SQLite and PostgreSQL) and from Redis, the
right ones (routed or held, not platform-fulfilled, never-routed or INVALID_PAYLOAD), each once with the
Redis copy winning, in placed order, and as routing saw them (nothing shipped yet).

The builders here (archived orders, snapshot rows, seller configs) serve the other what-if tests too."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec

from config.schema import RoutingConfig, SellerConfig, WarehouseConfig
from pipeline.archive import archive_orders
from pipeline.archive.records import ArchivedLine, ArchivedOrder, ArchivedSubmission, StockSnapshot
from pipeline.decisions.replay_orders import Outcome, archived_replay_orders, hot_replay_orders, merge
from pipeline.decisions.replay_stock import snapshot_days
from pipeline.model import Address, FulfilledBy, Hold, HoldReason, OrderStatus
from pipeline.stages import Stage
from tests.factories import make_order, received

SELLER = "acme"
DAY = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
SINCE, UNTIL = DAY - timedelta(days=7), DAY + timedelta(days=7)
US = Address(country="US", name="Ann Example", line1="1 Main St", city="Austin", region="TX", postal_code="78701",
             pii_complete=True)
GB = Address(country="GB", name="Tom Example", line1="1 High St", city="Leeds", postal_code="LS1 1AA",
             pii_complete=True)


def warehouse(wh_id: str, countries: list[str], *, country: str = "", priority: int = 100, cost: float = 1.0,
              handling: float = 1.0) -> WarehouseConfig:
    return WarehouseConfig(id=wh_id, kind="shipbob", credentials={}, countries=countries, country=country,
                           priority=priority, cost_hint=cost, handling_days=handling)


def config(*warehouses: WarehouseConfig, split: bool = False) -> SellerConfig:
    return SellerConfig(seller=SELLER, warehouses=list(warehouses), routing=RoutingConfig(allow_split=split))


def archived(n: int, *, stage: Stage = Stage.SHIPPED, hold: HoldReason | None = None, to: Address = US,
             lines: tuple[tuple[str, int], ...] = (("MUG", 1),), at: datetime = DAY, sent: tuple[str, ...] = (),
             status: OrderStatus = OrderStatus.SHIPPED, by: FulfilledBy = FulfilledBy.SELLER,
             ship_by: datetime | None = None, shipped: bool = True) -> ArchivedOrder:
    """An archived order placed `n` minutes after `at`, shipped in full unless `shipped` is False."""
    base = make_order(n)
    return ArchivedOrder(
        seller=SELLER, key=base.key, platform=base.platform, shop_id=base.shop_id, external_id=base.external_id,
        platform_status="shipped", status=status, fulfilled_by=by, placed_at=at + timedelta(minutes=n),
        updated_at=at + timedelta(minutes=n), currency="USD", payload_hash="h", raw=b"{}", stage=stage,
        hold=Hold(hold, "held") if hold else None, ship_to=to, ship_by=ship_by,
        lines=tuple(ArchivedLine(line_no=i, line_ids=(f"{n}-{i}",), platform_sku=sku, seller_sku=sku, quantity=qty,
                                 shipped_quantity=qty if shipped and stage == Stage.SHIPPED else 0,
                                 warehouse=sent[0] if len(sent) == 1 else None)
                    for i, (sku, qty) in enumerate(lines)),
        submissions=tuple(ArchivedSubmission(warehouse=wh, reference=f"r-{n}", remote_id="x", state="SHIPPED")
                          for wh in sent))


def snapshot(day: date, wh: str, sku: str, on_hand: int, reserved: int = 0) -> StockSnapshot:
    return StockSnapshot(seller=SELLER, day=day, warehouse=wh, seller_sku=sku, on_hand=on_hand, reserved=reserved,
                         in_doubt=0, shipped=0, taken_at=datetime.combine(day, datetime.min.time(), UTC)
                         + timedelta(hours=23))


def test_the_archive_gives_routed_and_held_orders_as_routing_saw_them(engine):
    archive_orders(engine, [
        archived(1, sent=("east",), lines=(("MUG", 2), ("CUP", 1))),
        archived(2, stage=Stage.HELD, hold=HoldReason.NO_WAREHOUSE_FOR_COUNTRY, to=GB, shipped=False),
        archived(3, stage=Stage.CANCELLED, status=OrderStatus.CANCELLED, sent=("east",)),
        archived(4, stage=Stage.IGNORED, by=FulfilledBy.PLATFORM),  # the platform's
        archived(5, stage=Stage.RECEIVED, status=OrderStatus.CANCELLED),  # cancelled before routing
        archived(6, stage=Stage.HELD, hold=HoldReason.INVALID_PAYLOAD),  # routing never saw it
        archived(7, at=UNTIL),  # after the period
    ])
    found = {item.order.external_id: item for item in archived_replay_orders(engine, SELLER, SINCE, UNTIL)}
    assert sorted(found) == ["ORD-0000001", "ORD-0000002", "ORD-0000003"]
    shipped = found["ORD-0000001"]
    assert [(line.seller_sku, line.open_quantity) for line in shipped.order.lines] == [("MUG", 2), ("CUP", 1)]
    assert shipped.recorded == Outcome(("east",)) and shipped.tier == "archive"
    assert found["ORD-0000002"].recorded == Outcome(hold="NO_WAREHOUSE_FOR_COUNTRY")
    assert found["ORD-0000002"].order.ship_to == GB
    assert found["ORD-0000003"].order.lines[0].open_quantity == 1


def test_each_order_once_the_redis_copy_winning_in_placed_order(engine, store):
    archive_orders(engine, [archived(1, sent=("east",)), archived(3, sent=("east",)), archived(2, sent=("east",))])
    moving = msgspec.structs.replace(make_order(3), placed_at=DAY + timedelta(minutes=3))
    store.upsert(SELLER, [received(moving)])
    store.set_stage(SELLER, moving.key, Stage.ROUTED)
    hot_only = msgspec.structs.replace(make_order(9), placed_at=DAY - timedelta(days=1))
    store.upsert(SELLER, [received(hot_only)])
    store.hold(SELLER, hot_only.key, HoldReason.INSUFFICIENT_STOCK, "short")
    store.set_stage(SELLER, hot_only.key, Stage.HELD)
    never_routed = msgspec.structs.replace(make_order(10), placed_at=DAY)
    store.upsert(SELLER, [received(never_routed)])  # stage received: not replayed

    merged, tiers = merge(archived_replay_orders(engine, SELLER, SINCE, UNTIL),
                          hot_replay_orders(store, SELLER, SINCE, UNTIL))
    assert [item.order.external_id for item in merged] == ["ORD-0000009", "ORD-0000001", "ORD-0000002",
                                                           "ORD-0000003"]
    assert [item.tier for item in merged] == ["redis", "archive", "archive", "redis"]
    assert (tiers.archive, tiers.redis, tiers.both) == (2, 2, 1)
    assert merged[0].recorded == Outcome(hold="INSUFFICIENT_STOCK")


def test_snapshot_days_reach_back_to_the_last_reading_before_the_period(engine):
    from pipeline.archive import archive_stock

    first = DAY.date()
    archive_stock(engine, [snapshot(first - timedelta(days=5), "east", "MUG", 9),
                           snapshot(first - timedelta(days=9), "east", "MUG", 1),
                           snapshot(first + timedelta(days=1), "east", "MUG", 7, reserved=3)])
    days = snapshot_days(engine, SELLER, first, first + timedelta(days=3))
    assert days == {first - timedelta(days=5): {("east", "MUG"): 9}, first + timedelta(days=1): {("east", "MUG"): 4}}
