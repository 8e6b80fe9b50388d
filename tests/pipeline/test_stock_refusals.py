"""A stock number the platform refuses is recorded with the platform's reason and not pushed again and
again: the same number to the same listing waits out a backoff (60 s doubling, at most an hour), a new
number or listing id goes at once, and an accepted push clears the record. Time is driven through
`now`, never slept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from structlog.testing import capture_logs

from config.schema import SellerConfig, ShopConfig, SkuMapConfig, WarehouseConfig
from connectors.registry import PLATFORMS
from pipeline.model import StockLevel
from pipeline.ports import PushOutcome, StockPush
from pipeline.stock import StockLedger
from pipeline.stock_refusals import MAX_BACKOFF, backoff, read_refusals
from pipeline.stock_sync import pushed_key, sync_shop_stock

T0 = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
MUG, LAMP = "ACME-MUG-01-FBM", "ACME-LAMP-02"
SHOP = ShopConfig(platform="amazon", shop_id="acme-amazon-us", credentials={}, countries=["US"])


def seller(listing_id: str | None = None) -> SellerConfig:
    return SellerConfig(
        seller="acme", shops=[SHOP],
        sku_map=SkuMapConfig(default="none", platforms={"amazon": {MUG: "MUG-01", LAMP: "LAMP-02"}},
                             listings={"amazon": {MUG: listing_id}} if listing_id else {}),
        warehouses=[WarehouseConfig(id="east", kind="fourpx", credentials={}, countries=["US"])])


class Platform:
    """A PlatformClient's stock side: refuses the SKUs in `refusing` as Amazon refuses an unknown SKU."""

    def __init__(self, *refusing: str, code: str = "4000001", answers: bool = True) -> None:
        self.refusing, self.code, self.answers = set(refusing), code, answers
        self.pushed: list[StockPush] = []

    def push_stock(self, pushes: list[StockPush]) -> list[PushOutcome]:
        self.pushed.extend(pushes)
        outcomes = []
        for push in pushes:
            if push.platform_sku not in self.refusing:
                outcomes.append(PushOutcome(push.platform_sku, True))
            elif self.answers:
                outcomes.append(PushOutcome(push.platform_sku, False, f"The SKU {push.platform_sku} does not exist "
                                            "in the seller's catalogue.", self.code))
        return outcomes

    def take(self) -> list[tuple[str, int]]:
        taken = sorted((p.platform_sku, p.quantity) for p in self.pushed)
        self.pushed.clear()
        return taken


@pytest.fixture
def ledger(redis_client, prefix):
    return StockLedger(redis_client, prefix)


def stock(ledger: StockLedger, mugs: int, lamps: int = 5, at: datetime = T0) -> None:
    ledger.apply_snapshot("acme", "east", [StockLevel(warehouse="east", seller_sku="MUG-01", on_hand=mugs, as_of=at),
                                           StockLevel(warehouse="east", seller_sku="LAMP-02", on_hand=lamps, as_of=at)],
                          at)


def sync(ledger, redis_client, prefix, platform, now, cfg=None):
    return sync_shop_stock(cfg or seller(), SHOP, ledger, redis_client, prefix, PLATFORMS["amazon"], platform, now=now)


def refusal(redis_client, prefix, sku=MUG):
    return read_refusals(redis_client, prefix, "acme", SHOP.shop_id).get(sku)


def test_a_refused_number_is_recorded_and_not_pushed_again_on_the_next_run(ledger, redis_client, prefix):
    stock(ledger, mugs=3)
    platform = Platform(MUG)
    with capture_logs() as first_logs:
        first = sync(ledger, redis_client, prefix, platform, T0)
    assert platform.take() == [(LAMP, 5), (MUG, 3)]
    assert first.pushed == 1 and first.newly_refused == [MUG]
    assert [e["skus"] for e in first_logs if e["log_level"] == "warning" and e["event"] == "stock.refused"] == [[MUG]]
    record = refusal(redis_client, prefix)
    assert (record.platform, record.quantity, record.listing_id, record.code, record.attempts) == ("amazon", 3, None,
                                                                                                  "4000001", 1)
    assert record.message == f"The SKU {MUG} does not exist in the seller's catalogue."
    assert record.refused_at == T0 and record.retry_at == T0 + timedelta(seconds=60)

    for seconds in (5, 10, 59):
        with capture_logs() as logs:
            again = sync(ledger, redis_client, prefix, platform, T0 + timedelta(seconds=seconds))
        assert platform.take() == [] and again.waiting == 1
        assert not [e for e in logs if e["log_level"] in ("warning", "error")]
    assert refusal(redis_client, prefix) == record


def test_a_refused_listing_is_pushed_at_once_when_its_number_changes(ledger, redis_client, prefix):
    stock(ledger, mugs=3)
    platform = Platform(MUG)
    sync(ledger, redis_client, prefix, platform, T0)
    platform.take()
    stock(ledger, mugs=7, at=T0 + timedelta(seconds=5))
    with capture_logs() as logs:
        report = sync(ledger, redis_client, prefix, platform, T0 + timedelta(seconds=10))
    assert platform.take() == [(MUG, 7)]
    assert report.newly_refused == [MUG]  # a new number refused is a new refusal: said once more
    assert any(e["event"] == "stock.refused" and e["log_level"] == "warning" for e in logs)
    record = refusal(redis_client, prefix)
    assert (record.quantity, record.attempts) == (7, 1)
    assert record.retry_at == T0 + timedelta(seconds=70)


def test_a_refused_listing_is_pushed_at_once_when_its_listing_id_changes(ledger, redis_client, prefix):
    stock(ledger, mugs=3)
    platform = Platform(MUG)
    sync(ledger, redis_client, prefix, platform, T0, cfg=seller("B0OLD"))
    platform.take()
    sync(ledger, redis_client, prefix, platform, T0 + timedelta(seconds=5), cfg=seller("B0OLD"))
    assert platform.take() == []
    sync(ledger, redis_client, prefix, platform, T0 + timedelta(seconds=10), cfg=seller("B0NEW"))
    assert platform.take() == [(MUG, 3)]
    assert refusal(redis_client, prefix).listing_id == "B0NEW"


def test_the_same_number_is_tried_again_once_its_backoff_has_passed_and_the_backoff_doubles(
        ledger, redis_client, prefix):
    stock(ledger, mugs=3)
    platform = Platform(MUG)
    sync(ledger, redis_client, prefix, platform, T0)
    platform.take()
    with capture_logs() as logs:
        sync(ledger, redis_client, prefix, platform, T0 + timedelta(seconds=60))
    assert platform.take() == [(MUG, 3)]
    assert not [e for e in logs if e["log_level"] == "warning"]  # refused again: an attempt, not news
    record = refusal(redis_client, prefix)
    assert record.attempts == 2 and record.retry_at == T0 + timedelta(seconds=60 + 120)
    sync(ledger, redis_client, prefix, platform, T0 + timedelta(seconds=179))
    assert platform.take() == []
    sync(ledger, redis_client, prefix, platform, T0 + timedelta(seconds=180))
    assert platform.take() == [(MUG, 3)]
    assert refusal(redis_client, prefix).attempts == 3


def test_the_backoff_stops_growing_at_one_hour(ledger, redis_client, prefix):
    stock(ledger, mugs=3)
    platform = Platform(MUG)
    now = T0
    waits = []
    for _ in range(9):
        sync(ledger, redis_client, prefix, platform, now)
        assert (MUG, 3) in platform.take()
        record = refusal(redis_client, prefix)
        waits.append(record.retry_at - record.refused_at)
        now = record.retry_at
    assert [w.total_seconds() for w in waits] == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert backoff(1000) == MAX_BACKOFF == timedelta(hours=1)


def test_an_accepted_push_clears_the_refusal(ledger, redis_client, prefix):
    stock(ledger, mugs=3)
    platform = Platform(MUG)
    sync(ledger, redis_client, prefix, platform, T0)
    platform.take()
    platform.refusing.clear()  # the seller created the listing on the platform
    report = sync(ledger, redis_client, prefix, platform, T0 + timedelta(seconds=60))
    assert platform.take() == [(MUG, 3)] and report.pushed == 1
    assert refusal(redis_client, prefix) is None
    assert redis_client.hget(pushed_key(prefix, "acme", SHOP.shop_id), MUG) == b"3"


def test_a_refusal_is_forgotten_once_the_platform_shows_the_number_wanted(ledger, redis_client, prefix):
    stock(ledger, mugs=3)
    platform = Platform()
    sync(ledger, redis_client, prefix, platform, T0)  # 3 accepted
    platform.refusing.add(MUG)
    stock(ledger, mugs=4, at=T0 + timedelta(seconds=5))
    sync(ledger, redis_client, prefix, platform, T0 + timedelta(seconds=10))  # 4 refused
    assert refusal(redis_client, prefix).quantity == 4
    stock(ledger, mugs=3, at=T0 + timedelta(seconds=15))  # back to the 3 the platform shows
    platform.take()
    sync(ledger, redis_client, prefix, platform, T0 + timedelta(seconds=20))
    assert platform.take() == [] and refusal(redis_client, prefix) is None


@pytest.mark.parametrize(("platform", "code"), [
    (Platform(MUG, code=""), "refused"),  # no code in the answer
    (Platform(MUG, code="not a code: it has spaces"), "refused"),  # a sentence is no label
    (Platform(MUG, answers=False), "no_answer"),  # the reply leaves the SKU out
])
def test_the_reason_code_is_fixed_when_the_platform_gives_none_fit_for_a_label(ledger, redis_client, prefix,
                                                                              platform, code):
    stock(ledger, mugs=3)
    sync(ledger, redis_client, prefix, platform, T0)
    assert refusal(redis_client, prefix).code == code
