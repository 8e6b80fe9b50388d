"""The Amazon emulator's Feeds API v2021-06-30 over real HTTP, with this directory's own small client:
documents and their presigned URLs, the processing statuses on the sandbox clock, the report per SKU."""

from __future__ import annotations

import gzip
import json

import pytest
import requests

from sandbox import AmazonEmulator
from tests.sandbox.conftest import US_MARKETPLACE, AmazonClient

JSON = "application/json; charset=UTF-8"
FEEDS = "/feeds/2021-06-30/feeds"


@pytest.fixture
def slow_amazon(clock):
    with AmazonEmulator(clock=clock, orders=0, feed_queue_seconds=60, feed_processing_seconds=120) as emulator:
        yield emulator


def _message(i: int, sku: str, quantity: object) -> dict:
    return {"messageId": i, "sku": sku, "operationType": "PATCH", "productType": "PRODUCT",
            "patches": [{"op": "replace", "path": "/attributes/fulfillment_availability",
                         "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]}]}


def _document(client: AmazonClient, content: bytes, content_type: str = JSON) -> str:
    made = client.send("POST", "/feeds/2021-06-30/documents", {"contentType": content_type})
    assert made.status_code == 201 and made.headers["x-amzn-RateLimit-Limit"] == "0.5", made.text
    assert requests.put(made.json()["url"], data=content, headers={"Content-Type": content_type}).status_code == 200
    return made.json()["feedDocumentId"]


def _create(client: AmazonClient, doc_id: str, feed_type: str = "JSON_LISTINGS_FEED") -> str:
    made = client.send("POST", FEEDS, {"feedType": feed_type, "marketplaceIds": [US_MARKETPLACE],
                                       "inputFeedDocumentId": doc_id})
    assert made.status_code == 202 and made.headers["x-amzn-RateLimit-Limit"] == "0.0083", made.text
    return made.json()["feedId"]


def _report(client: AmazonClient, feed: dict) -> dict:
    doc = client.get(f"/feeds/2021-06-30/documents/{feed['resultFeedDocumentId']}").json()
    assert doc["compressionAlgorithm"] == "GZIP"
    return json.loads(gzip.decompress(requests.get(doc["url"]).content))


def test_a_feed_waits_in_queue_then_in_progress_then_applies_once_with_a_report_per_sku(slow_amazon, clock):
    client = AmazonClient(slow_amazon)
    seller = client.creds.seller_id
    skus = [row["platform_sku"] for row in slow_amazon.stock_listings()[:3]]
    feed = {"header": {"sellerId": seller, "version": "2.0", "issueLocale": "en_US"},
            "messages": [_message(1, skus[0], 4), _message(2, skus[1], -1), _message(3, "NOPE", 2),
                         _message(4, skus[2], 6)]}
    feed_id = _create(client, _document(client, json.dumps(feed).encode()))
    statuses = []
    for step in (0, 61, 60, 60):
        clock.advance(step)
        reply = client.get(f"{FEEDS}/{feed_id}")
        assert reply.status_code == 200 and reply.headers["x-amzn-RateLimit-Limit"] == "2"
        statuses.append(reply.json()["processingStatus"])
        if statuses[-1] != "DONE":
            assert "resultFeedDocumentId" not in reply.json()
            assert skus[0] not in slow_amazon.stock_levels(), "nothing applies before the feed is processed"
    assert statuses == ["IN_QUEUE", "IN_PROGRESS", "IN_PROGRESS", "DONE"]
    report = _report(client, reply.json())
    assert report["summary"] == {"errors": 2, "warnings": 0, "messagesProcessed": 4, "messagesAccepted": 2,
                                 "messagesInvalid": 2}
    assert [(i["messageId"], i["sku"], i["code"]) for i in report["issues"]] == [(2, skus[1], "99001"),
                                                                                 (3, "NOPE", "4000001")]
    levels = slow_amazon.stock_levels()
    assert (levels[skus[0]], levels[skus[2]]) == (4, 6) and skus[1] not in levels
    again = client.get(f"{FEEDS}/{feed_id}").json()
    assert again["resultFeedDocumentId"] == reply.json()["resultFeedDocumentId"]
    assert len(slow_amazon.pushed("stock")) == 4, "applied once, however often it is read"


def test_presigned_url_needs_its_content_type_and_expires_after_five_minutes(amazon, clock):
    client = AmazonClient(amazon)
    made = client.send("POST", "/feeds/2021-06-30/documents", {"contentType": JSON}).json()
    assert requests.put(made["url"], data=b"{}", headers={"Content-Type": "text/plain"}).status_code == 403
    assert requests.put(made["url"] + "x", data=b"{}", headers={"Content-Type": JSON}).status_code == 403
    clock.advance(301)
    late = requests.put(made["url"], data=b"{}", headers={"Content-Type": JSON})
    assert late.status_code == 403 and b"Request has expired" in late.content
    assert client.send("POST", "/feeds/2021-06-30/documents", {}).status_code == 400, "contentType is required"


def test_create_feed_checks_its_document_and_marketplaces(amazon):
    client = AmazonClient(amazon)
    made = client.send("POST", "/feeds/2021-06-30/documents", {"contentType": JSON}).json()
    not_uploaded = client.send("POST", FEEDS, {"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [US_MARKETPLACE],
                                               "inputFeedDocumentId": made["feedDocumentId"]})
    assert not_uploaded.status_code == 400 and not_uploaded.json()["errors"][0]["code"] == "InvalidInput"
    doc = _document(client, b"{}")
    assert client.send("POST", FEEDS, {"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [],
                                       "inputFeedDocumentId": doc}).status_code == 400
    assert client.send("POST", FEEDS, {"feedType": "JSON_LISTINGS_FEED", "marketplaceIds": [US_MARKETPLACE],
                                       "inputFeedDocumentId": "nope"}).status_code == 400
    assert client.get(f"{FEEDS}/999").status_code == 404


def test_a_bad_header_is_one_feed_level_issue_and_a_legacy_feed_type_ends_fatal(amazon):
    client = AmazonClient(amazon)
    someone_else = {"header": {"sellerId": "AOTHERSELLER", "version": "2.0"},
                    "messages": [_message(1, amazon.stock_listings()[0]["platform_sku"], 1)]}
    feed = client.get(f"{FEEDS}/{_create(client, _document(client, json.dumps(someone_else).encode()))}").json()
    report = _report(client, feed)
    assert feed["processingStatus"] == "DONE" and report["summary"]["messagesProcessed"] == 0
    assert len(report["issues"]) == 1 and "messageId" not in report["issues"][0]
    assert amazon.stock_levels() == {}
    legacy = _create(client, _document(client, b"<AmazonEnvelope/>", "text/xml"), "POST_INVENTORY_AVAILABILITY_DATA")
    fatal = client.get(f"{FEEDS}/{legacy}").json()
    assert fatal["processingStatus"] == "FATAL" and "resultFeedDocumentId" not in fatal


def test_get_feeds_lists_the_sellers_feeds_by_type_status_and_creation_time(slow_amazon, clock):
    client = AmazonClient(slow_amazon)
    body = json.dumps({"header": {"sellerId": client.creds.seller_id, "version": "2.0"},
                       "messages": [_message(1, slow_amazon.stock_listings()[0]["platform_sku"], 1)]}).encode()
    first = _create(client, _document(client, body))
    clock.advance(200)
    second = _create(client, _document(client, body))
    listed = client.get(FEEDS, feedTypes="JSON_LISTINGS_FEED", processingStatuses="IN_QUEUE,IN_PROGRESS")
    assert listed.status_code == 200 and listed.headers["x-amzn-RateLimit-Limit"] == "0.0222"
    assert [f["feedId"] for f in listed.json()["feeds"]] == [second], f"{first} is DONE by now"
    assert {f["feedId"] for f in client.get(FEEDS, feedTypes="JSON_LISTINGS_FEED").json()["feeds"]} == {first, second}
    assert client.get(FEEDS).status_code == 400, "feedTypes (or nextToken) is required"
