"""The Feeds API v2021-06-30 of the Amazon emulator, driven by the two Python clients no one here wrote.

A JSON_LISTINGS_FEED goes the whole way through each library's own calls: createFeedDocument, the upload
to the presigned URL, createFeed, getFeed until DONE, getFeedDocument and the processing report. Sources:
https://github.com/amzn/selling-partner-api-models/blob/main/models/feeds-api-model/feeds_2021-06-30.json,
``schemas/feeds/listings-feed-schema-v2.json`` and ``listings-feed-processing-report-schema-v2.json`` there.
"""

from __future__ import annotations

import gzip
import io
import json
from datetime import datetime

import pytest
import requests
from sp_api.api import Feeds
from spapi.api.feeds_v2021_06_30.feeds_api import FeedsApi
from spapi.models.feeds_v2021_06_30 import CreateFeedDocumentSpecification, CreateFeedSpecification

from tests.contract.oracles.amazon_clients import (
    ACCOUNT,
    HARNESS,
    MARKETPLACE,
    official_client,
    raw_and_reserialized,
    sdk_logging_contained,
    sp_api_client,
)

CONTENT_TYPE = "application/json; charset=UTF-8"


@pytest.fixture(autouse=True)
def _sdk_logging():
    with sdk_logging_contained():
        yield


def _feed(skus_quantities: list[tuple[str, int]]) -> bytes:
    """A listings feed with the published example's keys and nesting: one stock PATCH per SKU."""
    return json.dumps({"header": {"sellerId": ACCOUNT.seller_id, "version": "2.0", "issueLocale": "en_US"},
                       "messages": [{"messageId": i, "sku": sku, "operationType": "PATCH", "productType": "PRODUCT",
                                     "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                                                  "value": [{"fulfillment_channel_code": "DEFAULT",
                                                             "quantity": quantity}]}]}
                                    for i, (sku, quantity) in enumerate(skus_quantities, start=1)]}).encode()


def _same_feed(raw: dict, again: dict) -> bool:
    """Equal but for how the date-times are spelt: the model types them ``date-time``, so the SDK reads
    them as datetimes and writes them back with ``+00:00`` where the emulator (like Amazon's examples) wrote
    ``Z``; they must still name the same instant."""
    times = ("createdTime", "processingStartTime", "processingEndTime")
    same_times = all(datetime.fromisoformat(raw[k]) == datetime.fromisoformat(again[k]) for k in times if k in raw)
    return same_times and {k: v for k, v in raw.items() if k not in times} == {
        k: v for k, v in again.items() if k not in times} and raw.keys() == again.keys()


def test_official_sdk_feed_round_trip_parses_every_answer_and_reports_the_unknown_sku():
    """createFeedDocument (201 ``CreateFeedDocumentResponse``), a PUT to its ``url`` with the same content
    type, createFeed (202 ``CreateFeedResponse``), getFeed (``Feed``: IN_QUEUE, IN_PROGRESS, then DONE with
    ``resultFeedDocumentId``), getFeedDocument (``FeedDocument`` with ``compressionAlgorithm`` GZIP): each
    parses into the SDK's model and round-trips unchanged; the report names the unknown SKU's message."""
    with HARNESS.emulator(orders=1, seed=11, feed_queue_seconds=30, feed_processing_seconds=60) as emulator:
        client = official_client(emulator.url)
        api = FeedsApi(client)
        sku = emulator.stock_listings()[0]["platform_sku"]
        doc = api.create_feed_document(CreateFeedDocumentSpecification(content_type=CONTENT_TYPE))
        raw, again = raw_and_reserialized(client, doc)
        assert raw == again and doc.feed_document_id and doc.url
        # The SDK does not upload: Amazon's guide has the caller PUT to the presigned URL with any client.
        wrong = requests.put(doc.url, data=_feed([(sku, 3)]), headers={"Content-Type": "text/plain"})
        assert wrong.status_code == 403, "the URL is signed for the document's content type"
        assert requests.put(doc.url, data=_feed([(sku, 3), ("NO-SUCH-SKU", 1)]),
                            headers={"Content-Type": CONTENT_TYPE}).status_code == 200
        created = api.create_feed(CreateFeedSpecification(
            feed_type="JSON_LISTINGS_FEED", marketplace_ids=[MARKETPLACE], input_feed_document_id=doc.feed_document_id))
        raw, again = raw_and_reserialized(client, created)
        assert raw == again and created.feed_id

        seen = []
        for _ in range(3):
            feed = api.get_feed(created.feed_id)
            raw, again = raw_and_reserialized(client, feed)
            assert _same_feed(raw, again)
            seen.append(feed.processing_status)
            emulator.clock.advance(45)
        assert seen == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
        assert feed.result_feed_document_id and feed.processing_end_time

        result = api.get_feed_document(feed.result_feed_document_id)
        raw, again = raw_and_reserialized(client, result)
        assert raw == again and result.compression_algorithm == "GZIP"
        report = json.loads(gzip.decompress(requests.get(result.url).content))
        assert report["header"] == {"sellerId": ACCOUNT.seller_id, "version": "2.0", "feedId": created.feed_id}
        assert report["summary"] == {"errors": 1, "warnings": 0, "messagesProcessed": 2, "messagesAccepted": 1,
                                     "messagesInvalid": 1}
        assert [(i["messageId"], i["sku"], i["severity"]) for i in report["issues"]] == [(2, "NO-SUCH-SKU", "ERROR")]
        assert emulator.stock_levels()[sku] == 3


def test_python_amazon_sp_api_submit_feed_and_read_the_result_document():
    """``Feeds.submit_feed`` (createFeedDocument, its own PUT, createFeed), ``get_feed`` until DONE and
    ``get_feed_result_document``, which decompresses the GZIP report itself.

    Library faults met: ``create_feed_document`` encodes a ``str`` file as ISO-8859-1 (a feed is UTF-8), so
    the test hands it bytes; both create calls add ``marketplaceIds`` of the client's marketplace to the
    body (createFeed names it in the model; the emulator ignores it on createFeedDocument, which does not);
    ``get_feed_result_document`` decodes the report as ISO-8859-1 when the download names no charset.
    """
    with HARNESS.emulator(orders=1, seed=11) as emulator:
        feeds = sp_api_client(Feeds, emulator.url)
        skus = [row["platform_sku"] for row in emulator.stock_listings()[:3]]
        document, feed = feeds.submit_feed("JSON_LISTINGS_FEED", io.BytesIO(_feed([(s, 9) for s in skus])),
                                           content_type=CONTENT_TYPE, marketplaceIds=[MARKETPLACE])
        feed_id = feed.payload["feedId"]
        assert document.payload["feedDocumentId"] and feed_id
        status = feeds.get_feed(feed_id).payload
        assert status["processingStatus"] == "DONE" and status["feedType"] == "JSON_LISTINGS_FEED"
        report = json.loads(feeds.get_feed_result_document(status["resultFeedDocumentId"]))
        assert report["summary"]["messagesAccepted"] == 3 and report["issues"] == []
        assert all(emulator.stock_levels()[s] == 9 for s in skus)
