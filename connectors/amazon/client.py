"""Amazon SP-API client for one seller account: LWA tokens, Orders v0 paging, RDT, pushes.

No request signing since 2023 (an LWA access token in `x-amz-access-token` is all). Limits are per
operation token buckets (data below, from the published usage plans); a 429 `QuotaExceeded` blocks
the shared bucket. `*Before` must be two minutes in the past, so a sync never asks for the last two.
"""

from __future__ import annotations

import contextvars
import hashlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from config.schema import ShopConfig
from connectors.amazon.feeds import FEED_LIMITS, PRODUCT_TYPE, AmazonFeeds, availability_patches
from connectors.fanout import each
from connectors.http import Transport
from connectors.listed import unlisted_pages
from connectors.paging import token_pages
from connectors.ratelimit import RateLimiter
from connectors.responses import Action, Reading, Responses, Row, retry_after_seconds
from pipeline.errors import AuthenticationFailed
from pipeline.ports import Limit, ListedRows, PushOutcome, RawBundle, StockPush, TrackingPush

DEFAULT_LIMITS: dict[str, Limit] = {
    "getOrders": Limit(0.0167, 20),
    "getOrder": Limit(0.5, 30),
    "getOrderItems": Limit(0.5, 30),
    "getOrderAddress": Limit(0.5, 30),
    "createRestrictedDataToken": Limit(1.0, 10),
    "patchListingsItem": Limit(5.0, 5),
    "confirmShipment": Limit(2.0, 10),
    "lwaToken": Limit(1.0, 5),
} | FEED_LIMITS
HOSTS = {"na": "https://sellingpartnerapi-na.amazon.com", "eu": "https://sellingpartnerapi-eu.amazon.com",
         "fe": "https://sellingpartnerapi-fe.amazon.com"}
LWA_URL = "https://api.amazon.com/auth/o2/token"
TWO_MINUTES = timedelta(minutes=2, seconds=5)  # the documented rule plus a margin for clock skew
SHIPS_FROM_US = ("Unshipped", "PartiallyShipped")  # the orders whose full address we need (RDT)
RDT_BATCH = 50


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_errors(body: Any) -> Reading:
    """SP-API: `{payload}` on success, `{errors:[{code,message}]}` otherwise. The status carries the
    verdict (auth failures are 403); `errors[]` only names it, "" when it does not."""
    error = (body or {}).get("errors", [{}])[0] if isinstance(body, dict) and body.get("errors") else {}
    return Reading(None, str(error.get("code", "")), str(error.get("message", "")))


def rate_hint(headers: Mapping[str, str]) -> float | None:
    """Retry-After, else one token's worth of the operation's rate (`x-amzn-RateLimit-Limit`, per second)."""
    hint = retry_after_seconds(headers)
    rate = headers.get("x-amzn-RateLimit-Limit")
    if hint is None and rate:
        try:
            hint = min(60.0, 1.0 / float(rate))
        except (ValueError, ZeroDivisionError):
            hint = None
    return hint


classify_sp = Responses(read=read_errors, statuses={429: Row(Action.RATE_LIMITED, code="QuotaExceeded")},
                        hint=rate_hint)


def read_token(body: Any) -> Reading:
    """Login with Amazon: `{access_token, expires_in}`, or `{error, error_description}`."""
    if isinstance(body, dict) and body.get("access_token"):
        return Reading(Action.OK)
    error = body.get("error") if isinstance(body, dict) else None
    return Reading(code=str(error or ""))  # "" rather than the status: LWA named no error


classify_lwa = Responses(
    read=read_token,
    statuses={429: Row(Action.RATE_LIMITED, "LWA throttled", fixed=True),
              "5xx": Row(Action.RETRYABLE, "LWA unavailable", fixed=True)},
    # Differs from the default table: an LWA answer without a token (a 400 `invalid_grant` above all)
    # means the client or refresh token is refused; nothing but a person re-authorising fixes that.
    silent=Row(Action.AUTH, "login with Amazon refused the client or refresh token"),
)


class AmazonClient:
    def __init__(self, shop: ShopConfig, secrets: Mapping[str, str], limiter: RateLimiter) -> None:
        self.shop = shop
        self._secrets = secrets
        self.seller_id = secrets["seller_id"]
        self.marketplace = shop.marketplace
        self.base = (shop.base_url or HOSTS.get(shop.region, HOSTS["na"])).rstrip("/")
        self.lwa_url = f"{self.base}/auth/o2/token" if shop.base_url else LWA_URL
        self.transport = Transport("amazon", shop.shop_id, self.seller_id, limiter,
                                   DEFAULT_LIMITS | dict(shop.rate_limits))
        self._token: str | None = None
        self._token_expires = 0.0
        self._rdt: tuple[str, float, frozenset[str]] | None = None

    # -- auth ------------------------------------------------------------------------------

    def access_token(self, *, force: bool = False) -> str:
        """The LWA access token, refreshed a minute before it runs out."""
        if force or self._token is None or time.monotonic() > self._token_expires - 60:
            form = {"grant_type": "refresh_token", "refresh_token": self._secrets["refresh_token"],
                    "client_id": self._secrets["client_id"], "client_secret": self._secrets["client_secret"]}
            _, body = self.transport.call("lwaToken", lambda: {"method": "POST", "url": self.lwa_url, "data": form},
                                          classify_lwa)
            self._token = body["access_token"]
            self._token_expires = time.monotonic() + float(body.get("expires_in", 3600))
        return self._token

    def _sp(self, operation: str, method: str, path: str, *, params: dict[str, Any] | None = None,
            json: Any = None, token: str | None = None, attempts: int | None = None) -> Any:
        """One SP-API call; an access token refused mid-life is refreshed once before giving up (a refused
        token means the call did nothing). `attempts=1`: never repeated after an answer that did not come."""
        def build(access: str) -> dict[str, Any]:
            headers = {"x-amz-access-token": access, "x-amz-date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"),
                       "user-agent": "orderhub/0.1 (Language=Python)"}
            return {"method": method, "url": self.base + path, "params": params, "json": json, "headers": headers}

        try:
            _, body = self.transport.call(operation, lambda: build(token or self.access_token()), classify_sp,
                                          attempts=attempts)
        except AuthenticationFailed:
            if token is not None:
                raise
            fresh = self.access_token(force=True)
            _, body = self.transport.call(operation, lambda: build(fresh), classify_sp, attempts=attempts)
        return body

    # -- orders ------------------------------------------------------------------------------

    def sync_horizon(self, now: datetime) -> datetime:
        return now - TWO_MINUTES

    def changed_orders(self, since: datetime, until: datetime, listed: ListedRows | None = None
                       ) -> Iterator[list[RawBundle]]:
        """getOrders pages, each completed with getOrderItems (and the address) per order not in `listed`."""
        first = {"MarketplaceIds": self.marketplace, "LastUpdatedAfter": _iso(since),
                 "LastUpdatedBefore": _iso(until), "MaxResultsPerPage": 100}

        def fetch(token: str | None) -> tuple[list[dict[str, Any]], str | None]:
            params = first if token is None else {"MarketplaceIds": self.marketplace, "NextToken": token}
            payload = self._sp("getOrders", "GET", "/orders/v0/orders", params=params)["payload"]
            return payload.get("Orders", []), payload.get("NextToken")

        yield from unlisted_pages(token_pages(fetch, what="amazon getOrders"), _order_id, listed, self._bundles)

    def _bundles(self, orders: list[dict[str, Any]]) -> list[RawBundle]:
        ids = [o.get("AmazonOrderId") for o in orders if isinstance(o.get("AmazonOrderId"), str)]
        need_address = [o["AmazonOrderId"] for o in orders if isinstance(o.get("AmazonOrderId"), str)
                        and o.get("OrderStatus") in SHIPS_FROM_US and o.get("FulfillmentChannel") != "AFN"]
        items, addresses = self._items_and_addresses(ids, need_address)
        return [{"order": o, "items": items.get(o.get("AmazonOrderId"), []),
                 "address": addresses.get(o.get("AmazonOrderId"))} for o in orders]

    def _items_and_addresses(self, ids: list[str], need_address: list[str]
                             ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[str, Any]]]:
        """Items and addresses of one page, read side by side, a few calls of each side in flight.

        They are metered by two separate buckets: read one after the other, the items bucket would
        sit full while the addresses drain theirs, and a page would take the sum of both times instead
        of the longer one. Within a side, `fanout.each` keeps a few calls going so that one slow or
        timed-out answer does not hold up the rest; the shared limiter still meters every call, so at
        the published 0.5 rps this only keeps the bucket busy.
        """
        if not need_address:
            return dict(zip(ids, each(self._items, ids), strict=True)), {}
        self.access_token()  # refreshed once here, not raced by the readers
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="amazon-addresses") as pool:
            pending = pool.submit(contextvars.copy_context().run, self._addresses, need_address)
            try:
                items = dict(zip(ids, each(self._items, ids), strict=True))
            except BaseException:
                pending.cancel()
                raise
            return items, pending.result()

    def _items(self, order_id: str) -> list[dict[str, Any]]:
        def fetch(token: str | None) -> tuple[list[dict[str, Any]], str | None]:
            params = {"NextToken": token} if token else None
            payload = self._sp("getOrderItems", "GET", f"/orders/v0/orders/{order_id}/orderItems",
                               params=params)["payload"]
            return payload.get("OrderItems", []), payload.get("NextToken")

        return [item for page in token_pages(fetch, what="amazon getOrderItems") for item in page]

    def _restricted_token(self, paths: list[str]) -> str:
        """A Restricted Data Token for these address paths (cached while it covers them and lives)."""
        wanted = frozenset(paths)
        if self._rdt and self._rdt[2] >= wanted and time.monotonic() < self._rdt[1] - 60:
            return self._rdt[0]
        body = self._sp("createRestrictedDataToken", "POST", "/tokens/2021-03-01/restrictedDataToken", json={
            # The address resource is restricted as a whole: it takes no dataElements.
            "restrictedResources": [{"method": "GET", "path": p} for p in paths]})
        self._rdt = (body["restrictedDataToken"], time.monotonic() + float(body.get("expiresIn", 3600)), wanted)
        return self._rdt[0]

    def _addresses(self, order_ids: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(order_ids), RDT_BATCH):
            batch = order_ids[start:start + RDT_BATCH]
            paths = [f"/orders/v0/orders/{oid}/address" for oid in batch]
            rdt = self._restricted_token(paths)
            payloads = each(lambda path, rdt=rdt: self._sp("getOrderAddress", "GET", path, token=rdt), paths)
            for oid, body in zip(batch, payloads, strict=True):
                address = (body.get("payload") or {}).get("ShippingAddress")
                if address:
                    found[oid] = address
        return found

    def fetch_order(self, external_id: str) -> RawBundle:
        order = self._sp("getOrder", "GET", f"/orders/v0/orders/{external_id}")["payload"]
        return self._bundles([order])[0]

    # -- pushes ------------------------------------------------------------------------------

    def push_stock(self, pushes: Sequence[StockPush]) -> list[PushOutcome]:
        """One listings PATCH per SKU (the API takes one SKU per call; 5 rps lets that go fast)."""
        outcomes = []
        for push in pushes:
            body = {"productType": PRODUCT_TYPE, "patches": availability_patches(push, self.marketplace)}
            reply = self._sp("patchListingsItem", "PATCH",
                             f"/listings/2021-08-01/items/{self.seller_id}/{quote(push.platform_sku, safe='')}",
                             params={"marketplaceIds": self.marketplace}, json=body)
            accepted = reply.get("status") == "ACCEPTED"
            errors = [i for i in reply.get("issues", []) if i.get("severity") == "ERROR"]
            issues = "; ".join(str(i.get("message", "")) for i in errors)
            code = str(errors[0].get("code") or "") if errors else ("" if accepted else str(reply.get("status") or ""))
            outcomes.append(PushOutcome(push.platform_sku, accepted, issues, code))
        return outcomes

    # -- stock feeds (connectors/amazon/feeds.py; the pipeline's StockFeedClient) ------------------

    def submit_stock_feed(self, pushes: Sequence[StockPush], before_create: Callable[[], None]) -> str:
        """One JSON_LISTINGS_FEED of up to 25,000 listings; returns its feed id (see feeds.py)."""
        return AmazonFeeds(self).submit(pushes, before_create)

    def stock_feed_outcomes(self, feed_id: str, pushes: Sequence[StockPush]) -> list[PushOutcome] | None:
        """None while Amazon still processes the feed; else one outcome per push, from its report."""
        return AmazonFeeds(self).outcomes(feed_id, pushes)

    def stock_feeds_settled(self, since: datetime, known: set[str]) -> bool:
        """Whether every listings feed created since `since`, other than `known`, has finished (getFeeds)."""
        return AmazonFeeds(self).settled(since, known)

    def push_tracking(self, push: TrackingPush) -> PushOutcome:
        """`shipmentConfirmation`: 204 means Amazon took it."""
        package_ref = str(int(hashlib.sha256((push.package_ref or push.tracking_number).encode()).hexdigest()[:12], 16))
        body = {"marketplaceId": self.marketplace, "packageDetail": {
            "packageReferenceId": package_ref, "carrierCode": push.carrier, "trackingNumber": push.tracking_number,
            "shipDate": _iso(push.shipped_at),
            "orderItems": [{"orderItemId": item.line_id, "quantity": item.quantity} for item in push.items]}}
        self._sp("confirmShipment", "POST", f"/orders/v0/orders/{push.external_id}/shipmentConfirmation", json=body)
        return PushOutcome(push.external_id, True)


def _order_id(order: Any) -> str | None:
    oid = order.get("AmazonOrderId") if isinstance(order, dict) else None
    return oid if isinstance(oid, str) and oid else None
