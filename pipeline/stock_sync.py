"""Warehouse stock out to every platform shop: compute what each listing may show, push what changed.

A shop's listings are the platform SKUs its seller's SKU map ties to seller SKUs: explicit entries
under `sku_map.platforms.<platform>`, the listing (product) ids under `sku_map.listings.<platform>`,
and, with the identity default, every seller SKU a warehouse holds under its own name (on platforms
whose stock API needs no product id). One seller SKU may stand behind several listings.

What was last accepted per listing is kept in Redis, so a run pushes only the listings whose
number moved (the connector batches them as its API allows). A refused push is recorded with the
platform's reason (pipeline/stock_refusals.py) and the same number waits out a backoff, while a new
number goes at once. A drift check compares what a platform shows with what we last pushed and forgets
the listings that differ, so the next run repairs them.

Platforms that take stock as an asynchronous bulk feed (`Capabilities.stock_feed_size`, Amazon's
JSON_LISTINGS_FEED) get a run's changes as feeds when there are more than the seller's
`stock.feed_threshold`; fewer still go one call per listing. A feed is recorded in Redis (keys.stock_feeds)
before the call that creates it, then with its platform id; its listings are held back (not pushed
again, by either path) until a run reads its outcome, so an older number in a feed can never land after
a newer one pushed meanwhile. A run polls its new feeds for at most `feed_wait` seconds (a worker is
never held for the minutes a large feed may take) and leaves the rest to the next run: beat's periodic
push (`stock.interval_seconds`) or the next request. A record with no feed id (the createFeed answer was
lost) is dropped once the platform shows no unknown feed still processing, and its listings are forgotten
so they go again, as is every listing a feed did not clearly accept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

import msgspec
import redis
import structlog

from config.schema import SellerConfig, ShopConfig
from pipeline import keys
from pipeline.availability import Availability, available_to_sell
from pipeline.model import utc_now
from pipeline.ports import PlatformConnector, StockPush, StockReadingClient
from pipeline.stock import StockLedger
from pipeline.stock_feeds import push_by_feeds, settle_feeds
from pipeline.stock_outcomes import StockReport as StockReport
from pipeline.stock_outcomes import pushed_key as pushed_key
from pipeline.stock_outcomes import record_outcomes
from pipeline.stock_refusals import Refusal, clear_refusals, read_refusals

log = structlog.get_logger()


class Listing(msgspec.Struct, frozen=True, order=True):
    platform_sku: str
    seller_sku: str
    listing_id: str | None = None


class PlannedPush(msgspec.Struct, frozen=True):
    listing: Listing
    availability: Availability
    last_pushed: int | None  # what the platform was last told, None if never

    @property
    def changed(self) -> bool:
        return self.last_pushed != self.availability.quantity


def shop_listings(seller: SellerConfig, shop: ShopConfig, held_skus: Iterable[str], *,
                  needs_listing_id: bool = False) -> list[Listing]:
    """Every platform SKU of this shop that stands for a seller SKU (see the module docstring)."""
    platform, sku_map = shop.platform, seller.sku_map
    listing_ids = sku_map.listings.get(platform, {})
    found: dict[str, Listing] = {}
    for platform_sku, seller_sku in sku_map.platforms.get(platform, {}).items():
        found[platform_sku] = Listing(platform_sku, seller_sku, listing_ids.get(platform_sku))
    for platform_sku, listing_id in listing_ids.items():
        if platform_sku not in found:
            seller_sku = sku_map.seller_sku(platform, platform_sku)
            if seller_sku is not None:
                found[platform_sku] = Listing(platform_sku, seller_sku, listing_id)
    if sku_map.default == "identity" and not needs_listing_id:
        covered = {listing.seller_sku for listing in found.values()}
        for sku in held_skus:
            if sku not in covered and sku not in found:
                found[sku] = Listing(sku, sku)
    if needs_listing_id:
        return sorted(listing for listing in found.values() if listing.listing_id)
    return sorted(found.values())


def plan(seller: SellerConfig, shop: ShopConfig, ledger: StockLedger, client: redis.Redis, prefix: str, *,
         only: set[str] | None = None, needs_listing_id: bool = False) -> list[PlannedPush]:
    """What each of the shop's listings (or those of the seller SKUs in `only`) may show now."""
    warehouses = [wh.id for wh in seller.warehouses if wh.enabled]
    if only is None:
        available = ledger.available_all(seller.seller, warehouses)
        held = {sku for (_wh, sku) in available}
    else:  # an urgent push names a few SKUs: read just those, not every warehouse's whole hash
        available = ledger.view(seller.seller, [(wh, sku) for wh in warehouses for sku in only])
        held = set(only)
    listings = shop_listings(seller, shop, held, needs_listing_id=needs_listing_id)
    if only is not None:
        listings = [listing for listing in listings if listing.seller_sku in only]
    last = _last_pushed(client, pushed_key(prefix, seller.seller, shop.shop_id), [x.platform_sku for x in listings])
    by_sku: dict[str, Availability] = {}
    planned = []
    for listing in listings:
        if listing.seller_sku not in by_sku:
            by_sku[listing.seller_sku] = available_to_sell(seller, shop, listing.seller_sku, available)
        planned.append(PlannedPush(listing, by_sku[listing.seller_sku], last.get(listing.platform_sku)))
    return planned


def sync_shop_stock(seller: SellerConfig, shop: ShopConfig, ledger: StockLedger, client: redis.Redis,
                    prefix: str, connector: PlatformConnector, platform: Any, *, only: set[str] | None = None,
                    urgent: bool = False, still_mine: Callable[[], bool] | None = None,
                    chunk: int = 400, now: datetime | None = None, feed_wait: float = 30.0) -> StockReport:
    """Push every changed listing of one shop through `platform` (a PlatformClient); remember what was
    accepted, and what was refused and why. `urgent`: only listings now at or below the seller's push
    threshold (a reservation just took the last units), the rest waits for the schedule. A number the
    platform refused for the same listing waits until its backoff has passed (at `now`). Pushes go out
    `chunk` listings at a time and `still_mine()` (extending the caller's lease) is asked before each: a
    caller that lost its lease stops, so two pushers of one shop never interleave (an older number could
    land last). Above `stock.feed_threshold` changed listings, a feed-taking platform gets them as feeds,
    polled for at most `feed_wait` seconds (see the module docstring)."""
    now = now or utc_now()
    needs_listing = connector.capabilities.stock_needs_listing
    feeding = connector.capabilities.stock_feed_size > 0
    settled = settle_feeds(seller.seller, shop, client, prefix, platform, now) if feeding else None
    planned = plan(seller, shop, ledger, client, prefix, only=only, needs_listing_id=needs_listing)
    refusals = _settle_refusals(client, prefix, seller.seller, shop.shop_id, planned, whole_shop=only is None)
    changed = [StockPush(p.listing.platform_sku, p.availability.quantity, p.listing.listing_id)
               for p in planned if p.changed]
    held = settled.held if settled is not None else set()
    free = [push for push in changed if push.platform_sku not in held]
    pushes = [push for push in free if push.platform_sku not in refusals
              or not refusals[push.platform_sku].waiting(push, now)]
    report = StockReport(shop_id=shop.shop_id, listings=len(planned), waiting=len(free) - len(pushes),
                         in_feeds=len(changed) - len(free))
    if settled is not None:
        settled.add_to(report)
    if urgent:
        pushes = [push for push in pushes if push.quantity <= seller.stock.push_at_or_below]
    if feeding and len(pushes) > seller.stock.feed_threshold:
        push_by_feeds(seller.seller, shop, client, prefix, connector, platform, pushes, report, now,
                       still_mine=still_mine, feed_wait=feed_wait)
    elif pushes:
        _push_by_calls(seller.seller, shop, client, prefix, platform, pushes, refusals, report, now,
                       still_mine=still_mine, chunk=chunk)
    if feeding:
        report.feeds_open = client.hlen(keys.stock_feeds(prefix, seller.seller, shop.shop_id))
    if not pushes and not report.pushed and not report.refused:
        return report
    bound = log.bind(seller=seller.seller, platform=shop.platform, shop=shop.shop_id)
    bound.info("stock.pushed", pushed=report.pushed, refused=len(report.refused), waiting=report.waiting,
               urgent=urgent, feeds=report.feeds, in_feeds=report.in_feeds, feeds_open=report.feeds_open)
    if report.newly_refused:  # once per refused number: a retry refused again is in the count above
        bound.warning("stock.refused", skus=sorted(report.newly_refused)[:20])
    return report


def _push_by_calls(seller: str, shop: ShopConfig, client: redis.Redis, prefix: str, platform: Any,
                   pushes: list[StockPush], refusals: Mapping[str, Refusal], report: StockReport, now: datetime, *,
                   still_mine: Callable[[], bool] | None, chunk: int) -> None:
    """The per-listing path: `chunk` listings per `push_stock`, the lease checked before each."""
    done = 0
    for batch in listing_chunks(pushes, chunk):
        if still_mine is not None and not still_mine():
            log.warning("stock.lease_lost", seller=seller, shop=shop.shop_id, left=len(pushes) - done)
            break
        done += len(batch)
        outcomes = {o.ref: o for o in platform.push_stock(batch)}
        record_outcomes(seller, shop, client, prefix, batch, outcomes, refusals, report, now)


def _settle_refusals(client: redis.Redis, prefix: str, seller: str, shop_id: str, planned: list[PlannedPush], *,
                     whole_shop: bool) -> dict[str, Refusal]:
    """The refusals still standing for the planned listings. A listing whose platform number is already
    the one wanted (an earlier push was accepted) is no longer refused; on a whole-shop run, neither is
    one that left the SKU map."""
    skus = {p.listing.platform_sku for p in planned}
    refusals = read_refusals(client, prefix, seller, shop_id, None if whole_shop else sorted(skus))
    settled = {p.listing.platform_sku for p in planned if not p.changed} | (set(refusals) - skus)
    clear_refusals(client, prefix, seller, shop_id, [sku for sku in refusals if sku in settled])
    return {sku: refusal for sku, refusal in refusals.items() if sku not in settled}


def listing_chunks(pushes: list[StockPush], size: int) -> Iterator[list[StockPush]]:
    """Pushes about `size` at a time, grouped by listing and never splitting one listing's SKUs.

    Platforms that take a product's SKUs in one call (TikTok, TEMU, AliExpress) make one call per
    listing per chunk: in platform-SKU order a 400-push chunk of a big catalogue holds ~400 different
    products, so a full push would cost a call per SKU instead of one per product.
    """
    ordered = sorted(pushes, key=lambda push: (push.listing_id is None, push.listing_id or "", push.platform_sku))
    current: list[StockPush] = []
    for push in ordered:
        if len(current) >= size and (push.listing_id is None or push.listing_id != current[-1].listing_id):
            yield current
            current = []
        current.append(push)
    if current:
        yield current


def check_drift(seller: SellerConfig, shop: ShopConfig, client: redis.Redis, prefix: str,
                connector: PlatformConnector, platform: Any) -> dict[str, tuple[int, int | None]]:
    """Listings whose platform-side number differs from what we last pushed: {sku: (pushed, shown)}.

    Only for connectors that declare a stock read API (`stock_read_back`: `platform` is then a
    StockReadingClient); {} for the others. The listings found are forgotten, so the next sync pushes
    them again."""
    if not connector.capabilities.stock_read_back:
        return {}
    reader: StockReadingClient = platform
    key = pushed_key(prefix, seller.seller, shop.shop_id)
    last = {k.decode(): int(v) for k, v in client.hgetall(key).items()}
    if not last:
        return {}
    shown = reader.stock_levels(sorted(last))
    drifted = {sku: (qty, shown.get(sku)) for sku, qty in last.items() if shown.get(sku) != qty}
    if drifted:
        client.hdel(key, *drifted)
        log.warning("stock.drift", seller=seller.seller, platform=shop.platform, shop=shop.shop_id,
                    listings=len(drifted))
    return drifted


def _last_pushed(client: redis.Redis, key: str, skus: list[str]) -> Mapping[str, int]:
    if not skus:
        return {}
    if len(skus) > 500:
        return {k.decode(): int(v) for k, v in client.hgetall(key).items()}
    values = client.hmget(key, skus)
    return {sku: int(v) for sku, v in zip(skus, values, strict=True) if v is not None}
