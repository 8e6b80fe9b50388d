"""Stock as asynchronous bulk feeds (Amazon's JSON_LISTINGS_FEED), for pipeline/stock_sync.py: submitted
with a record in Redis made before the call that creates the feed, settled by a later run (or this one,
for at most `feed_wait` seconds) that reads the outcome per listing; the module docstring of
pipeline/stock_sync.py says why each step is as it is."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime

import msgspec
import redis
import structlog

from config.schema import ShopConfig
from pipeline import keys
from pipeline.errors import AuthenticationFailed, NeedsReview, RateLimited
from pipeline.ports import PlatformConnector, StockFeedClient, StockPush
from pipeline.stock_outcomes import StockReport, pushed_key, record_outcomes
from pipeline.stock_refusals import read_refusals

log = structlog.get_logger()


class FeedRecord(msgspec.Struct, kw_only=True):
    """A stock feed as kept until its outcome is read: `feed_id` None until createFeed has answered."""

    feed_id: str | None
    submitted_at: datetime
    pushes: list[StockPush]


FEED_POLL_SECONDS = 5.0  # between two polls of the feeds a run has just submitted


class Settled(msgspec.Struct):
    """What reading the shop's open feeds found: listings still held by a feed, and the outcomes read."""

    held: set[str]
    report: StockReport

    def add_to(self, report: StockReport) -> None:
        report.pushed += self.report.pushed
        report.refused |= self.report.refused
        report.newly_refused += self.report.newly_refused


def settle_feeds(seller: str, shop: ShopConfig, client: redis.Redis, prefix: str, platform: StockFeedClient,
                  now: datetime) -> Settled:
    """Read the outcome of every open feed of the shop that has one; record it and drop the feed."""
    key = keys.stock_feeds(prefix, seller, shop.shop_id)
    records = {token.decode(): msgspec.json.decode(raw, type=FeedRecord) for token, raw in client.hgetall(key).items()}
    found = Settled(set(), StockReport(shop_id=shop.shop_id))
    known = {r.feed_id for r in records.values() if r.feed_id}
    for token, record in sorted(records.items(), key=lambda item: item[1].submitted_at):
        skus = [push.platform_sku for push in record.pushes]
        if record.feed_id is None:  # createFeed's answer was lost: wait until no unknown feed can still land
            if not platform.stock_feeds_settled(record.submitted_at, known):
                found.held.update(skus)
                continue
            client.pipeline().hdel(pushed_key(prefix, seller, shop.shop_id), *skus).hdel(key, token).execute()
            log.warning("stock.feed_orphan_dropped", seller=seller, shop=shop.shop_id, listings=len(skus))
            continue
        outcomes = platform.stock_feed_outcomes(record.feed_id, record.pushes)
        if outcomes is None:
            found.held.update(skus)
            continue
        previous = read_refusals(client, prefix, seller, shop.shop_id, skus)
        record_outcomes(seller, shop, client, prefix, record.pushes, {o.ref: o for o in outcomes}, previous,
                         found.report, now, forget_refused=True)
        client.hdel(key, token)
    return found


def push_by_feeds(seller: str, shop: ShopConfig, client: redis.Redis, prefix: str, connector: PlatformConnector,
                   platform: StockFeedClient, pushes: list[StockPush], report: StockReport, now: datetime, *,
                   still_mine: Callable[[], bool] | None, feed_wait: float) -> None:
    """Submit `pushes` as feeds of `stock_feed_size` listings, then poll them for at most `feed_wait` s."""
    key = keys.stock_feeds(prefix, seller, shop.shop_id)
    size = connector.capabilities.stock_feed_size
    for start in range(0, len(pushes), size):
        if still_mine is not None and not still_mine():
            log.warning("stock.lease_lost", seller=seller, shop=shop.shop_id, left=len(pushes) - start)
            return
        batch = pushes[start:start + size]
        token = uuid.uuid4().hex
        record = FeedRecord(feed_id=None, submitted_at=now, pushes=batch)

        def note(token: str = token, record: FeedRecord = record) -> None:
            client.hset(key, token, msgspec.json.encode(record))

        try:
            record.feed_id = platform.submit_stock_feed(batch, note)
        except (NeedsReview, AuthenticationFailed, RateLimited):
            client.hdel(key, token)  # refused outright: no feed was created
            raise
        client.hset(key, token, msgspec.json.encode(record))
        report.feeds += 1
        report.in_feeds += len(batch)
    deadline = time.monotonic() + feed_wait
    while True:
        if still_mine is not None and not still_mine():
            return
        settled = settle_feeds(seller, shop, client, prefix, platform, now)
        settled.add_to(report)
        report.in_feeds = len(settled.held)
        if not settled.held or time.monotonic() + FEED_POLL_SECONDS > deadline:
            return
        time.sleep(FEED_POLL_SECONDS)
