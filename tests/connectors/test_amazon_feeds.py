"""Amazon stock in bulk: the JSON_LISTINGS_FEED document and report reading (connectors/amazon/feeds.py),
and the stock sync's feed path against the emulator: the threshold, refusals per listing, a run that ends
before the feed does, a lost createFeed answer, and never an older number over a newer one."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from config.schema import SellerConfig, SkuMapConfig, StockConfig, WarehouseConfig
from connectors.amazon.feeds import feed_document, read_report
from connectors.ratelimit import RateLimiter
from connectors.registry import PLATFORMS
from pipeline import keys
from pipeline.errors import UpstreamUnavailable
from pipeline.model import StockLevel
from pipeline.ports import PushOutcome, StockPush
from pipeline.stock import StockLedger
from pipeline.stock_refusals import read_refusals
from pipeline.stock_sync import sync_shop_stock
from tests.contract.harness import HARNESSES

HARNESS = HARNESSES["amazon"]
SKUS = 30  # of the demo catalogue's listings; the threshold in these tests is 10
AS_OF = datetime.now(UTC) - timedelta(minutes=5)


def test_the_feed_document_has_the_published_examples_shape():
    """listings-feed-schema-v2.example.json, message 4: PATCH, productType, patches replacing
    /attributes/fulfillment_availability with DEFAULT and an integer quantity; header sellerId, version "2.0"."""
    document = json.loads(feed_document("A1SELLER", "ATVPDKIKX0DER", [StockPush("SKU-A", 10), StockPush("SKU-B", -2)]))
    assert document["header"] == {"sellerId": "A1SELLER", "version": "2.0", "issueLocale": "en_US"}
    first, second = document["messages"]
    assert first == {"messageId": 1, "sku": "SKU-A", "operationType": "PATCH", "productType": "PRODUCT",
                     "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                                  "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 10,
                                             "marketplace_id": "ATVPDKIKX0DER"}]}]}
    assert second["messageId"] == 2 and second["patches"][0]["value"][0]["quantity"] == 0


PUSHES = [StockPush("My-SKU-A", 1), StockPush("My-SKU-B", 2), StockPush("My-SKU-C", 3)]


def _report(issues: list[dict], accepted: int) -> dict:
    """Shaped as listings-feed-processing-report-schema-v2.example.json."""
    return {"header": {"sellerId": "AXXXXXXXXXXXX", "version": "2.0", "feedId": "1234567890"}, "issues": issues,
            "summary": {"errors": len(issues), "warnings": 0, "messagesProcessed": 3, "messagesAccepted": accepted,
                        "messagesInvalid": 3 - accepted}}


def test_report_refuses_the_messages_its_errors_name_and_accepts_the_rest():
    issues = [{"messageId": 2, "sku": "My-SKU-B", "code": "90220", "severity": "ERROR",
               "message": "'[batteries_required]' is required but not supplied."},
              {"messageId": 3, "sku": "My-SKU-C", "code": "18448", "severity": "WARNING", "message": "a warning"}]
    assert read_report(_report(issues, 2), PUSHES) == [
        PushOutcome("My-SKU-A", True), PushOutcome("My-SKU-B", False, issues[0]["message"], "90220"),
        PushOutcome("My-SKU-C", True)]


@pytest.mark.parametrize("report", [
    _report([{"code": "100001", "severity": "ERROR", "message": "the feed could not be read"}], 0),  # feed level
    _report([], 1),  # the summary disagrees with the issues: nothing is taken as accepted
    {"header": {}, "issues": []},  # no summary
    None,  # the document was not JSON
])
def test_a_report_that_does_not_account_for_every_message_accepts_none(report):
    assert not any(outcome.accepted for outcome in read_report(report, PUSHES))


# --- the stock sync's feed path against the emulator ------------------------------------------------


def _setup(redis_client, prefix, emulator, threshold: int = 10):
    shop, secrets = HARNESS.shop(emulator)
    connector = PLATFORMS["amazon"]
    client = connector.client(shop, secrets, RateLimiter(redis_client, prefix))
    listings = emulator.stock_listings()[:SKUS]
    sku_map = SkuMapConfig(default="none", platforms={"amazon": {r["platform_sku"]: r["seller_sku"] for r in listings}})
    seller = SellerConfig(seller="acme", shops=[shop], sku_map=sku_map, stock=StockConfig(feed_threshold=threshold),
                          warehouses=[WarehouseConfig(id="wh-1", kind="fourpx", countries=["US"], credentials={})])
    return seller, shop, connector, client, listings


def _snapshot(ledger: StockLedger, units: dict[str, int], step: int) -> None:
    as_of = AS_OF + timedelta(seconds=step)
    ledger.apply_snapshot("acme", "wh-1", [StockLevel(warehouse="wh-1", seller_sku=s, on_hand=n, as_of=as_of)
                                           for s, n in units.items()], as_of)


def _calls(emulator, operation: str) -> int:
    return emulator.counters.get(operation)


def test_more_changes_than_the_threshold_go_as_one_feed_fewer_as_patches(redis_client, prefix):
    with HARNESS.emulator(orders=0) as emulator:
        seller, shop, connector, client, listings = _setup(redis_client, prefix, emulator)
        ledger = StockLedger(redis_client, prefix)
        units = {r["seller_sku"]: 5 for r in listings}
        _snapshot(ledger, units, 0)
        first = sync_shop_stock(seller, shop, ledger, redis_client, prefix, connector, client)
        assert (first.pushed, first.feeds, first.feeds_open, first.refused) == (SKUS, 1, 0, {})
        assert (_calls(emulator, "createFeed"), _calls(emulator, "patchListingsItem")) == (1, 0)
        for row in listings[:3]:
            units[row["seller_sku"]] = 7
        _snapshot(ledger, units, 1)
        small = sync_shop_stock(seller, shop, ledger, redis_client, prefix, connector, client)
        assert (small.pushed, small.feeds) == (3, 0)
        assert (_calls(emulator, "createFeed"), _calls(emulator, "patchListingsItem")) == (1, 3)
        assert all(emulator.stock_levels()[r["platform_sku"]] == units[r["seller_sku"]] for r in listings)
        assert redis_client.hlen(keys.stock_feeds(prefix, "acme", shop.shop_id)) == 0


def test_refusals_in_the_report_are_recorded_per_listing(redis_client, prefix):
    with HARNESS.emulator(orders=0) as emulator:
        seller, shop, connector, client, listings = _setup(redis_client, prefix, emulator)
        ghost = "NOT-ON-AMAZON"
        seller = SellerConfig(seller="acme", shops=[shop], stock=seller.stock, warehouses=seller.warehouses,
                              sku_map=SkuMapConfig(default="none", platforms={"amazon": {
                                  **seller.sku_map.platforms["amazon"], ghost: listings[0]["seller_sku"]}}))
        ledger = StockLedger(redis_client, prefix)
        _snapshot(ledger, {r["seller_sku"]: 5 for r in listings}, 0)
        report = sync_shop_stock(seller, shop, ledger, redis_client, prefix, connector, client)
        assert report.pushed == SKUS and list(report.refused) == [ghost] and report.newly_refused == [ghost]
        refusal = read_refusals(redis_client, prefix, "acme", shop.shop_id)[ghost]
        assert (refusal.code, refusal.quantity, refusal.attempts) == ("4000001", 5, 1)
        assert ghost in refusal.message


def test_a_feed_still_processing_holds_its_listings_and_a_newer_number_follows_it(redis_client, prefix):
    """The run ends before Amazon has processed the feed (a worker killed then is the same): the feed id is
    in Redis, the next run holds its listings back while the feed is IN_PROGRESS, and once it is DONE records
    what it accepted and only then pushes the newer number, so the older one never lands last."""
    with HARNESS.emulator(orders=0, feed_queue_seconds=60, feed_processing_seconds=120) as emulator:
        seller, shop, connector, client, listings = _setup(redis_client, prefix, emulator)
        ledger = StockLedger(redis_client, prefix)
        units = {r["seller_sku"]: 5 for r in listings}
        _snapshot(ledger, units, 0)
        first = sync_shop_stock(seller, shop, ledger, redis_client, prefix, connector, client, feed_wait=0)
        assert (first.pushed, first.feeds, first.feeds_open, first.in_feeds) == (0, 1, 1, SKUS)
        assert redis_client.hlen(keys.stock_feeds(prefix, "acme", shop.shop_id)) == 1

        newer = listings[0]
        units[newer["seller_sku"]] = 2
        _snapshot(ledger, units, 1)
        emulator.clock.advance(90)  # IN_PROGRESS
        held = sync_shop_stock(seller, shop, ledger, redis_client, prefix, connector, client, feed_wait=0)
        assert (held.pushed, held.in_feeds, held.feeds_open) == (0, SKUS, 1)  # none accepted yet, one newer
        assert _calls(emulator, "patchListingsItem") == 0 and _calls(emulator, "createFeed") == 1

        emulator.clock.advance(120)  # DONE
        done = sync_shop_stock(seller, shop, ledger, redis_client, prefix, connector, client, feed_wait=0)
        assert (done.pushed, done.feeds_open) == (SKUS + 1, 0)  # the feed's 60, then the newer number by PATCH
        assert _calls(emulator, "patchListingsItem") == 1
        assert emulator.stock_levels()[newer["platform_sku"]] == 2
        stock = [p for p in emulator.pushed("stock") if p["content"]["sku"] == newer["platform_sku"]]
        assert [p["content"]["availability"][0]["quantity"] for p in stock] == [5, 2]


def test_a_lost_create_feed_answer_holds_the_listings_until_no_unknown_feed_can_land(redis_client, prefix):
    """createFeed went through but its answer was lost: the record has no feed id. The listings wait while
    getFeeds shows a feed we do not know still processing, then are forgotten and pushed again. The runs
    take their time from the emulator's clock (frozen in the past), as ours and Amazon's agree in life."""
    with HARNESS.emulator(orders=0, feed_queue_seconds=60, feed_processing_seconds=120) as emulator:
        seller, shop, connector, client, listings = _setup(redis_client, prefix, emulator)
        ledger = StockLedger(redis_client, prefix)
        units = {r["seller_sku"]: 5 for r in listings}
        _snapshot(ledger, units, 0)
        real = client.submit_stock_feed

        def answer_lost(pushes, before_create):
            real(pushes, before_create)
            raise UpstreamUnavailable("amazon createFeed: read timed out")

        client.submit_stock_feed = answer_lost
        with pytest.raises(UpstreamUnavailable):
            sync_shop_stock(seller, shop, ledger, redis_client, prefix, connector, client, feed_wait=0,
                                now=emulator.clock.now())
        del client.submit_stock_feed
        records = redis_client.hgetall(keys.stock_feeds(prefix, "acme", shop.shop_id))
        assert [json.loads(r)["feed_id"] for r in records.values()] == [None]

        waiting = sync_shop_stock(seller, shop, ledger, redis_client, prefix, connector, client, feed_wait=0,
                                now=emulator.clock.now())
        assert (waiting.pushed, waiting.in_feeds, waiting.feeds) == (0, SKUS, 0)
        assert _calls(emulator, "createFeed") == 1

        emulator.clock.advance(200)  # the unknown feed is DONE: nothing of it can land later
        after = sync_shop_stock(seller, shop, ledger, redis_client, prefix, connector, client, feed_wait=0,
                                now=emulator.clock.now())
        assert after.feeds == 1 and _calls(emulator, "createFeed") == 2  # pushed again, as a new feed
        emulator.clock.advance(200)
        final = sync_shop_stock(seller, shop, ledger, redis_client, prefix, connector, client, feed_wait=0,
                                now=emulator.clock.now())
        assert (final.pushed, final.feeds_open) == (SKUS, 0)
        assert all(emulator.stock_levels()[r["platform_sku"]] == 5 for r in listings)


def test_a_fatal_feed_refuses_its_listings_and_forgets_what_they_showed(redis_client, prefix, monkeypatch):
    """FATAL: some, none or all of the feed's updates may have applied. Each listing is refused with code
    FATAL (the same number waits out the backoff) and its last pushed number is forgotten."""
    with HARNESS.emulator(orders=0) as emulator:
        seller, shop, connector, client, listings = _setup(redis_client, prefix, emulator)
        ledger = StockLedger(redis_client, prefix)
        _snapshot(ledger, {r["seller_sku"]: 5 for r in listings}, 0)
        monkeypatch.setattr("connectors.amazon.feeds.FEED_TYPE", "POST_INVENTORY_AVAILABILITY_DATA")  # ends FATAL
        report = sync_shop_stock(seller, shop, ledger, redis_client, prefix, connector, client)
        assert report.pushed == 0 and len(report.refused) == SKUS
        refusals = read_refusals(redis_client, prefix, "acme", shop.shop_id)
        assert {r.code for r in refusals.values()} == {"FATAL"}
        assert redis_client.hlen(keys.stock_pushed(prefix, "acme", shop.shop_id)) == 0
        again = sync_shop_stock(seller, shop, ledger, redis_client, prefix, connector, client)
        assert (again.waiting, again.feeds) == (SKUS, 0), "the same numbers wait out the refusal backoff"
