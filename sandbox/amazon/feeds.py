"""The Amazon emulator's Feeds API v2021-06-30, for ``JSON_LISTINGS_FEED`` stock (docs/platforms/amazon.md,
"Feeds").

The flow: ``createFeedDocument`` hands out a document id and a presigned upload URL (a route of this
emulator that needs no access token, expires after five minutes and wants the content type the document
was created with); the caller PUTs the feed there, ``createFeed`` queues it, and ``getFeed`` shows it go
IN_QUEUE -> IN_PROGRESS -> DONE on the sandbox clock (``feed_queue_seconds``, ``feed_processing_seconds``).
The feed is applied once, when it is first seen past its processing time: each message is checked as a
Listings Items PATCH would be, accepted stock is stored, and a processing report (``header``, ``issues``,
``summary``) becomes the feed's result document, served GZIP-compressed through ``getFeedDocument``.
Documents are plain bytes: 2021-06-30 documents carry no encryption details.
"""

from __future__ import annotations

import gzip
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sandbox.amazon import push
from sandbox.amazon.orders import _csv, _parse_date
from sandbox.amazon.shapes import invalid, iso, not_found
from sandbox.core.http_types import Request, Response
from sandbox.core.listings import ListingIndex
from sandbox.core.server import EmulatorState

LISTINGS_FEED = "JSON_LISTINGS_FEED"
MAX_MESSAGES = 25_000  # listings-feed-schema-v2.json, messages.maxItems
OPERATION_TYPES = {"UPDATE", "PARTIAL_UPDATE", "PATCH", "DELETE"}
URL_LIFETIME = timedelta(minutes=5)  # the model: "This URL expires after 5 minutes."
FINAL = ("DONE", "CANCELLED", "FATAL")


@dataclass
class Document:
    seller: str
    content_type: str
    created_at: datetime
    token: str  # stands for the presigned URL's signature
    content: bytes | None = None
    compressed: bool = False


@dataclass
class Feed:
    feed_id: str
    seller: str
    feed_type: str
    marketplaces: list[str]
    document_id: str
    created_at: datetime
    status: str = "IN_QUEUE"
    started_at: datetime | None = None
    ended_at: datetime | None = None
    result_document_id: str | None = None


class FeedsTarget(EmulatorState, Protocol):
    listings: ListingIndex
    stock: dict[tuple[str, str], int]
    documents: dict[str, Document]
    feeds: dict[str, Feed]
    feed_queue_seconds: float
    feed_processing_seconds: float
    compress_reports: bool

    @property
    def url(self) -> str: ...


def create_feed_document(emu: FeedsTarget, request: Request) -> Response:
    body = request.json_object()
    if body is None or not isinstance(body.get("contentType"), str) or not body["contentType"]:
        return invalid("contentType is required.")
    doc_id = str(uuid.uuid4())
    doc = Document(request.caller.seller_id, body["contentType"], emu.clock.now(), secrets.token_hex(16))
    emu.documents[doc_id] = doc
    return Response.json(201, {"feedDocumentId": doc_id, "url": _document_url(emu, doc_id, doc)})


def _document_url(emu: FeedsTarget, doc_id: str, doc: Document) -> str:
    return f"{emu.url}/_s3/feed-documents/{doc_id}?X-Amz-Signature={doc.token}"


def upload_document(emu: FeedsTarget, request: Request) -> Response:
    """The presigned PUT (S3, not SP-API): the signature, its five minutes and the signed content type."""
    doc = emu.documents.get(request.params["documentId"])
    if doc is None or request.arg("X-Amz-Signature") != doc.token or doc.compressed:  # reports are read-only
        return _s3_error(403, "AccessDenied", "Access Denied")
    if emu.clock.now() > doc.created_at + URL_LIFETIME:
        return _s3_error(403, "AccessDenied", "Request has expired")
    if (request.headers.get("Content-Type") or "") != doc.content_type:
        return _s3_error(403, "SignatureDoesNotMatch",
                         "The request signature we calculated does not match the signature you provided.")
    doc.content = request.body
    return Response(200)


def download_document(emu: FeedsTarget, request: Request) -> Response:
    doc = emu.documents.get(request.params["documentId"])
    if doc is None or doc.content is None or request.arg("X-Amz-Signature") != doc.token:
        return _s3_error(403, "AccessDenied", "Access Denied")
    return Response(200, doc.content, {"Content-Type": doc.content_type})


def _s3_error(status: int, code: str, message: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(status, body.encode(), {"Content-Type": "application/xml"})


def create_feed(emu: FeedsTarget, request: Request) -> Response:
    body = request.json_object()
    if body is None:
        return invalid("The request body must be a JSON object.")
    marketplaces = body.get("marketplaceIds")
    if not isinstance(body.get("feedType"), str) or not body["feedType"]:
        return invalid("feedType is required.")
    if not isinstance(marketplaces, list) or not 1 <= len(marketplaces) <= 25 or not all(
            isinstance(m, str) and m for m in marketplaces):
        return invalid("marketplaceIds must list 1 to 25 marketplace identifiers.")
    doc_id = body.get("inputFeedDocumentId")
    doc = emu.documents.get(doc_id) if isinstance(doc_id, str) else None
    seller = request.caller.seller_id
    if doc is None or doc.seller != seller:
        return invalid(f"inputFeedDocumentId {doc_id!r} is not a feed document of this seller.")
    if doc.content is None:  # the model: "Upload the feed document contents before calling this operation."
        return invalid(f"The feed document {doc_id} has no content: upload it before creating the feed.")
    feed_id = str(50_000_000_000 + len(emu.feeds) + 1)  # numeric strings, as in the model's example
    emu.feeds[feed_id] = Feed(feed_id, seller, body["feedType"], list(marketplaces), doc_id, emu.clock.now())
    return Response.json(202, {"feedId": feed_id})


def get_feed(emu: FeedsTarget, request: Request) -> Response:
    feed = emu.feeds.get(request.params["feedId"])
    if feed is None or feed.seller != request.caller.seller_id:
        return not_found(f"Feed {request.params['feedId']}")
    _advance(emu, feed)
    return Response.json(200, _feed_json(feed))


def get_feeds(emu: FeedsTarget, request: Request) -> Response:
    """getFeeds with ``feedTypes`` and the filters beside it (no ``nextToken`` paging: up to ``pageSize``)."""
    types = _csv(request, "feedTypes")
    if not types:
        return invalid("Either feedTypes or nextToken is required.")
    statuses = set(_csv(request, "processingStatuses"))
    since_raw = request.arg("createdSince")
    since = _parse_date(since_raw) if since_raw else emu.clock.now() - timedelta(days=90)
    if since is None:
        return invalid("createdSince must be an ISO 8601 date-time.")
    try:
        size = int(request.arg("pageSize") or 10)
    except ValueError:
        return invalid("pageSize must be an integer.")
    if not 1 <= size <= 100:
        return invalid("pageSize must be between 1 and 100.")
    found = []
    for feed in sorted(emu.feeds.values(), key=lambda f: f.created_at, reverse=True):
        _advance(emu, feed)
        if (feed.seller == request.caller.seller_id and feed.feed_type in types and feed.created_at >= since
                and (not statuses or feed.status in statuses)):
            found.append(_feed_json(feed))
    return Response.json(200, {"feeds": found[:size]})


def get_feed_document(emu: FeedsTarget, request: Request) -> Response:
    doc_id = request.params["feedDocumentId"]
    doc = emu.documents.get(doc_id)
    if doc is None or doc.seller != request.caller.seller_id or doc.content is None:
        return not_found(f"Feed document {doc_id}")
    doc.token = secrets.token_hex(16)  # a fresh presigned URL each time
    answer: dict[str, Any] = {"feedDocumentId": doc_id, "url": _document_url(emu, doc_id, doc)}
    if doc.compressed:
        answer["compressionAlgorithm"] = "GZIP"
    return Response.json(200, answer)


def _feed_json(feed: Feed) -> dict[str, Any]:
    answer: dict[str, Any] = {"feedId": feed.feed_id, "feedType": feed.feed_type, "marketplaceIds": feed.marketplaces,
                              "createdTime": iso(feed.created_at), "processingStatus": feed.status}
    if feed.started_at:
        answer["processingStartTime"] = iso(feed.started_at)
    if feed.ended_at:
        answer["processingEndTime"] = iso(feed.ended_at)
    if feed.result_document_id:
        answer["resultFeedDocumentId"] = feed.result_document_id
    return answer


def _advance(emu: FeedsTarget, feed: Feed) -> None:
    """Move the feed along the sandbox clock; apply it once when its processing time is over."""
    if feed.status in FINAL:
        return
    now = emu.clock.now()
    start = feed.created_at + timedelta(seconds=emu.feed_queue_seconds)
    end = start + timedelta(seconds=emu.feed_processing_seconds)
    if now >= start and feed.status == "IN_QUEUE":
        feed.status, feed.started_at = "IN_PROGRESS", start
    if now < end:
        return
    feed.ended_at = end
    content = emu.documents[feed.document_id].content or b""
    if feed.feed_type != LISTINGS_FEED:
        feed.status = "FATAL"  # legacy XML / flat-file listing feeds end FATAL since 31 July 2025
        return
    try:
        document = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        feed.status = "FATAL"  # **unverified**: what Amazon does with a document that is not JSON
        return
    report = _process(emu, feed, document)
    report_id = str(uuid.uuid4())
    raw = json.dumps(report).encode("utf-8")
    emu.documents[report_id] = Document(
        feed.seller, "application/json", now, secrets.token_hex(16),
        gzip.compress(raw) if emu.compress_reports else raw, emu.compress_reports)
    feed.status, feed.result_document_id = "DONE", report_id


def _process(emu: FeedsTarget, feed: Feed, document: Any) -> dict[str, Any]:
    """Check and apply every message; the processing report (listings-feed-processing-report-schema-v2)."""
    issues: list[dict[str, Any]] = []
    header = document.get("header") if isinstance(document, dict) else None
    messages = document.get("messages") if isinstance(document, dict) else None
    problem = None
    if not isinstance(header, dict) or header.get("version") != "2.0" or not isinstance(header.get("sellerId"), str):
        problem = "header must carry sellerId and version \"2.0\"."
    elif header["sellerId"] != feed.seller:
        problem = f"header.sellerId {header['sellerId']} is not the seller that created the feed."
    elif not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        problem = f"messages must hold 1 to {MAX_MESSAGES} messages."
    if problem is not None:  # a feed-level issue names no message; nothing is processed
        issues.append({"code": "100001", "severity": "ERROR", "message": problem})
        return _report(feed, issues, processed=0, accepted=0)
    seen: set[int] = set()
    accepted = 0
    for message in messages:
        found = _message(emu, feed, message, seen)
        issues.extend(found)
        if not any(i["severity"] == "ERROR" for i in found):
            accepted += 1
    return _report(feed, issues, processed=len(messages), accepted=accepted)


def _message(emu: FeedsTarget, feed: Feed, message: Any, seen: set[int]) -> list[dict[str, Any]]:
    ref = message.get("messageId") if isinstance(message, dict) else None
    sku = message.get("sku") if isinstance(message, dict) else None

    def issue(code: str, text: str, attribute: str | None = None) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if isinstance(ref, int) and not isinstance(ref, bool):
            found["messageId"] = ref
        if isinstance(sku, str) and sku:
            found["sku"] = sku
        found |= {"code": code, "severity": "ERROR", "message": text}
        if attribute:
            found["attributeName"] = attribute
        return found

    if not isinstance(ref, int) or isinstance(ref, bool) or not 1 <= ref <= 2_147_483_647 or ref in seen:
        return [issue("100002", "messageId must be an integer from 1, unique within the feed.")]
    seen.add(ref)
    if not isinstance(sku, str) or not sku:
        return [issue("100002", "sku is required.")]
    operation = message.get("operationType")
    if operation not in OPERATION_TYPES:
        return [issue("100002", f"operationType must be one of {sorted(OPERATION_TYPES)}.")]
    if operation != "PATCH":  # only the stock PATCH is emulated; the others are refused, never half-applied
        return [issue("100003", f"operationType {operation} is not emulated by the sandbox.")]
    if not isinstance(message.get("productType"), str) or not message["productType"]:
        return [issue("100002", "productType is required for PATCH.")]
    patches = message.get("patches")
    if not isinstance(patches, list) or not patches or "attributes" in message or "requirements" in message:
        return [issue("100002", "PATCH takes patches (at least one) and neither attributes nor requirements.")]
    found, stock = [], []
    if emu.listings.get(sku) is None:
        found.append(issue("4000001", f"The SKU {sku} does not exist in the seller's catalogue."))
    for i, patch in enumerate(patches):
        if not isinstance(patch, dict) or patch.get("op") not in push.LISTING_OPS or not isinstance(patch.get("path"), str):
            found.append(issue("100002", f"patches[{i}] needs op ({sorted(push.LISTING_OPS)}) and path."))
            continue
        if patch["path"] == push.AVAILABILITY:
            values, problems = push._availability(patch, i)
            stock.extend(values)
            found.extend(issue(p["code"], p["message"], "fulfillment_availability") for p in problems)
    content = {"seller_id": feed.seller, "sku": sku, "marketplace_ids": feed.marketplaces,
               "product_type": message["productType"], "availability": stock, "feed_id": feed.feed_id,
               "message_id": ref}
    emu.record_push("stock", feed.seller, not found, content, found)
    if not found:
        for entry in stock:
            if entry["fulfillment_channel_code"] == "DEFAULT":
                emu.stock[(feed.seller, sku)] = entry["quantity"]
    return found


def _report(feed: Feed, issues: list[dict[str, Any]], *, processed: int, accepted: int) -> dict[str, Any]:
    errors_ = sum(1 for i in issues if i["severity"] == "ERROR")
    return {"header": {"sellerId": feed.seller, "version": "2.0", "feedId": feed.feed_id},
            "issues": issues,
            "summary": {"errors": errors_, "warnings": len(issues) - errors_, "messagesProcessed": processed,
                        "messagesAccepted": accepted, "messagesInvalid": processed - accepted}}

