"""Amazon stock in bulk: one JSON_LISTINGS_FEED (Feeds API v2021-06-30) instead of a PATCH per SKU.

createFeedDocument -> PUT the document to its presigned URL -> createFeed; later getFeed until the feed has
finished, then getFeedDocument and the processing report, read per message. Facts and sources:
docs/platforms/amazon.md, "Feeds". What is fail-safe here, and why:

* createFeed goes out once (`attempts=1`): a retry after a lost answer could queue the same document twice,
  and the second copy could land after a newer number. A lost answer is the caller's "orphan" (see
  `stock_feeds_settled`).
* A listing counts as accepted only when the report names no ERROR for its message, no feed-level ERROR
  exists, and the report's `messagesAccepted` equals the messages so counted; otherwise nothing in that
  feed is taken as accepted (the pipeline pushes those numbers again).
* FATAL ("some, none, or all of the operations ... may have completed") and CANCELLED: every listing is
  refused with that status as its code, so the same number waits out the refusal backoff and goes again.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import orjson

from connectors.responses import Action, Reading, Responses, Row
from pipeline.errors import NeedsReview
from pipeline.ports import Limit, PushOutcome, StockPush

if TYPE_CHECKING:
    from connectors.amazon.client import AmazonClient

FEED_TYPE = "JSON_LISTINGS_FEED"
FEED_MESSAGES = 25_000  # listings-feed-schema-v2.json: messages.maxItems
CONTENT_TYPE = "application/json; charset=UTF-8"
PRODUCT_TYPE = "PRODUCT"  # as the PATCH path sends (docs: **unverified** for a fulfillment-only patch)
FINISHED = {"DONE", "CANCELLED", "FATAL"}
SKEW = timedelta(hours=1)  # our clock against Amazon's when asking which feeds were created since a moment:
# generous, since a wider window can only make an orphaned submission wait longer
FEED_LIMITS: dict[str, Limit] = {
    "createFeedDocument": Limit(0.5, 15),
    "createFeed": Limit(0.0083, 15),
    "getFeed": Limit(2.0, 15),
    "getFeeds": Limit(0.0222, 10),
    "getFeedDocument": Limit(0.0222, 10),
    # The presigned document URLs are S3's, not SP-API's: no usage plan is published; metered gently.
    "uploadFeedDocument": Limit(5.0, 5),
    "downloadFeedDocument": Limit(5.0, 5),
}


def read_s3(body: Any) -> Reading:
    """The presigned URL's answer: success has no JSON; a refusal is S3 XML the transport cannot parse."""
    return Reading(None, "", "")


classify_s3 = Responses(read=read_s3, statuses={
    403: Row(Action.REJECTED, "the presigned document URL was refused (expired, or a content type other than "
                              "the one the document was created with)", fixed=True),
    "5xx": Row(Action.RETRYABLE, "document storage unavailable", fixed=True)})


def availability_patches(push: StockPush, marketplace: str) -> list[dict[str, Any]]:
    """The listing patch that sets a SKU's quantity: the same in a PATCH call and in a feed message."""
    return [{"op": "replace", "path": "/attributes/fulfillment_availability",
             "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": max(0, push.quantity),
                        "marketplace_id": marketplace}]}]


def feed_document(seller_id: str, marketplace: str, pushes: Sequence[StockPush]) -> bytes:
    """The JSON_LISTINGS_FEED document: one PATCH message per listing, `messageId` its 1-based position."""
    messages = [{"messageId": i, "sku": push.platform_sku, "operationType": "PATCH", "productType": PRODUCT_TYPE,
                 "patches": availability_patches(push, marketplace)}
                for i, push in enumerate(pushes, start=1)]
    return orjson.dumps({"header": {"sellerId": seller_id, "version": "2.0", "issueLocale": "en_US"},
                         "messages": messages})


def read_report(report: Any, pushes: Sequence[StockPush]) -> list[PushOutcome]:
    """Outcomes of `pushes` (messages 1..n) from a processing report (listings-feed-processing-report v2)."""
    if not isinstance(report, dict) or not isinstance(report.get("summary"), dict):
        return [_refused(push, "report_unreadable", "the feed's processing report could not be read")
                for push in pushes]
    by_message: dict[int, list[dict[str, Any]]] = {}
    by_sku: dict[str, list[dict[str, Any]]] = {}
    feed_level: list[dict[str, Any]] = []
    for issue in report.get("issues") or []:
        if not isinstance(issue, dict) or issue.get("severity") != "ERROR":
            continue
        ref, sku = issue.get("messageId"), issue.get("sku")
        if isinstance(ref, int) and not isinstance(ref, bool):
            by_message.setdefault(ref, []).append(issue)
        elif isinstance(sku, str) and sku:
            by_sku.setdefault(sku, []).append(issue)
        else:
            feed_level.append(issue)
    outcomes: list[PushOutcome] = []
    for i, push in enumerate(pushes, start=1):
        errors = by_message.get(i, []) + by_sku.get(push.platform_sku, [])
        if errors:
            outcomes.append(PushOutcome(push.platform_sku, False, "; ".join(str(e.get("message", "")) for e in errors),
                                        str(errors[0].get("code") or "")))
        else:
            outcomes.append(PushOutcome(push.platform_sku, True))
    said = report["summary"].get("messagesAccepted")
    counted = sum(1 for o in outcomes if o.accepted)
    if feed_level or said != counted:
        why = ("; ".join(str(e.get("message", "")) for e in feed_level) if feed_level else
               f"the report says {said} message(s) accepted, its issues leave {counted}")
        code = str(feed_level[0].get("code") or "feed_error") if feed_level else "report_mismatch"
        return [o if not o.accepted else _refused(push, code, why) for o, push in zip(outcomes, pushes, strict=True)]
    return outcomes


def _refused(push: StockPush, code: str, message: str) -> PushOutcome:
    return PushOutcome(push.platform_sku, False, message, code)


class AmazonFeeds:
    """The Feeds calls of one `AmazonClient` (its transport, token and limiter)."""

    def __init__(self, client: AmazonClient) -> None:
        self.client = client

    def submit(self, pushes: Sequence[StockPush], before_create: Callable[[], None]) -> str:
        if not pushes or len(pushes) > FEED_MESSAGES:
            raise ValueError(f"a listings feed holds 1 to {FEED_MESSAGES} messages, not {len(pushes)}")
        client = self.client
        document = feed_document(client.seller_id, client.marketplace, pushes)
        created = client._sp("createFeedDocument", "POST", "/feeds/2021-06-30/documents",
                             json={"contentType": CONTENT_TYPE})
        url = created["url"]
        client.transport.call("uploadFeedDocument", lambda: {
            "method": "PUT", "url": url, "data": document, "headers": {"Content-Type": CONTENT_TYPE}}, classify_s3)
        before_create()
        body = client._sp("createFeed", "POST", "/feeds/2021-06-30/feeds", attempts=1, json={
            "feedType": FEED_TYPE, "marketplaceIds": [client.marketplace],
            "inputFeedDocumentId": created["feedDocumentId"]})
        return str(body["feedId"])

    def outcomes(self, feed_id: str, pushes: Sequence[StockPush]) -> list[PushOutcome] | None:
        client = self.client
        feed = client._sp("getFeed", "GET", f"/feeds/2021-06-30/feeds/{quote(feed_id, safe='')}")
        status = feed.get("processingStatus")
        if status not in FINISHED:
            return None
        if status != "DONE":
            said = {"FATAL": "Amazon aborted the feed (FATAL): some, none or all of its updates may have applied",
                    "CANCELLED": "the feed was cancelled before Amazon processed it"}[status]
            return [_refused(push, status, said) for push in pushes]
        doc_id = feed.get("resultFeedDocumentId")
        if not isinstance(doc_id, str) or not doc_id:
            return [_refused(push, "no_report", "the feed is DONE but names no processing report") for push in pushes]
        return read_report(self._document(doc_id), pushes)

    def _document(self, doc_id: str) -> Any:
        client = self.client
        info = client._sp("getFeedDocument", "GET", f"/feeds/2021-06-30/documents/{quote(doc_id, safe='')}")
        url = info["url"]
        response, _ = client.transport.call("downloadFeedDocument", lambda: {"method": "GET", "url": url}, classify_s3)
        raw = response.content
        if info.get("compressionAlgorithm") == "GZIP":
            try:
                raw = gzip.decompress(raw)
            except (OSError, zlib.error, EOFError):
                return None
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None

    def settled(self, since: datetime, known: set[str]) -> bool:
        """getFeeds: no JSON_LISTINGS_FEED created since `since` (less the clock skew) other than `known`
        is still IN_QUEUE or IN_PROGRESS. One page of 100: more unfinished feeds than that is not settled."""
        params = {"feedTypes": FEED_TYPE, "marketplaceIds": self.client.marketplace, "pageSize": 100,
                  "processingStatuses": "IN_QUEUE,IN_PROGRESS",
                  "createdSince": (since - SKEW).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        body = self.client._sp("getFeeds", "GET", "/feeds/2021-06-30/feeds", params=params)
        feeds = body.get("feeds") if isinstance(body, dict) else None
        if not isinstance(feeds, list):
            raise NeedsReview("amazon getFeeds answered without a feeds list", code="bad_answer")
        if body.get("nextToken"):
            return False
        return all(f.get("feedId") in known or f.get("processingStatus") in FINISHED
                   for f in feeds if isinstance(f, dict))
