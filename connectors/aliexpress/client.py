"""AliExpress IOP client for one seller: signing, the gateway's error envelope, order paging, pushes.

Every call is a form POST to `/sync` naming the API in `method`, signed with HMAC-SHA256 over the
sorted key+value of every parameter (uppercase hex); business parameters travel as JSON strings.
Failures come back inside HTTP 200, either as the gateway's {type, code} or as the API's
`result.success: false`, so classification reads the body first. Query windows are Pacific
wall-clock strings and are widened around daylight-saving changes (see `pacific_window`).
The signature lives in signing.py, the envelope and its codes in envelope.py.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from config.accounts import platform_account
from config.schema import ShopConfig
from connectors.aliexpress.envelope import api_result, classify
from connectors.aliexpress.mapping import pacific_readings
from connectors.aliexpress.signing import sign
from connectors.fanout import each
from connectors.fields import Doc
from connectors.http import Transport
from connectors.listed import unlisted_pages
from connectors.listings import NO_LISTING_ID
from connectors.paging import numbered_pages, steady_walks
from connectors.ratelimit import RateLimiter
from orderhub.runtime.logs import register_secret
from pipeline.errors import NeedsReview
from pipeline.ports import Limit, ListedRows, PushOutcome, RawBundle, StockPush, TrackingPush

ACCOUNT_CREDENTIALS = ("app_key", "access_token")
"""The credentials naming the AliExpress account: rate-limit buckets and the shop-configured-twice rule use them."""


# What tests and benchmarks import from the client; `classify` is re-exported.
__all__ = ["DEFAULT_LIMITS", "DST_MARGIN", "MAX_WALKS", "NEEDS_ADDRESS", "PAGE_SIZE", "AliExpressClient",
           "classify"]

API_HOST = "https://api-sg.aliexpress.com"
ORDER_LIST = "aliexpress.solution.order.get"
ORDER_DETAIL = "aliexpress.solution.order.info.get"
ORDER_ADDRESS = "aliexpress.solution.order.receiptinfo.get"
STOCK_UPDATE = "aliexpress.solution.batch.product.inventory.update"
FULFIL = "aliexpress.solution.order.fulfill"
# QPS is not published (docs/platforms/aliexpress.md); conservative defaults, overridable per shop.
DEFAULT_LIMITS: dict[str, Limit] = {
    ORDER_LIST: Limit(10.0, 10), ORDER_DETAIL: Limit(10.0, 10), ORDER_ADDRESS: Limit(20.0, 20),
    STOCK_UPDATE: Limit(5.0, 5), FULFIL: Limit(5.0, 5),
}
MAX_WALKS = 3  # page-number paging has no snapshot: walk again (bounded) when the total moves
PAGE_SIZE = 50  # the largest page we assume order.get serves (no published maximum)
MAX_PRODUCTS_PER_CALL, MAX_SKUS_PER_PRODUCT = 20, 200
MAX_INVENTORY = 999_999
NEEDS_ADDRESS = {"WAIT_SELLER_SEND_GOODS", "SELLER_PART_SEND_GOODS"}  # still to ship: where to
OPEN_LINE = {"WAIT_SELLER_SEND_GOODS", "SELLER_PART_SEND_GOODS"}
PACIFIC = ZoneInfo("America/Los_Angeles")
DST_MARGIN = timedelta(hours=1)
# Carrier names Orderhub receives → AliExpress logistics service keys; anything else is sent as
# OTHER with the carrier's tracking site (AliExpress requires one for OTHER), 17track when unknown.
SERVICE_NAMES = {"ups": "UPS", "usps": "USPS", "fedex": "FEDEX_IE", "dhl": "DHL", "ems": "EMS",
                 "royal mail": "ROYAL_MAIL", "cainiao": "CAINIAO_STANDARD"}
TRACKING_SITES = {"yamato": "https://toi.kuronekoyamato.co.jp", "japan post": "https://trackings.post.japanpost.jp",
                  "dpd": "https://tracking.dpd.de", "hermes": "https://www.evri.com", "evri": "https://www.evri.com",
                  "colissimo": "https://www.laposte.fr/outils/suivre-vos-envois", "estafeta": "https://www.estafeta.com"}
FALLBACK_TRACKING_SITE = "https://www.17track.net"


def pacific(moment: datetime) -> str:
    return moment.astimezone(PACIFIC).strftime("%Y-%m-%d %H:%M:%S")


def near_dst_change(moment: datetime) -> bool:
    return (moment - DST_MARGIN).astimezone(PACIFIC).utcoffset() != (moment + DST_MARGIN).astimezone(PACIFIC).utcoffset()


def pacific_window(since: datetime, until: datetime) -> tuple[str, str]:
    """[since, until] as Pacific strings that cannot miss an order across a daylight-saving change.

    A wall time in the repeated autumn hour may be read by AliExpress as either occurrence, an
    hour apart, so an edge within an hour of a change moves an hour outward: the window can only
    grow (re-reads are harmless), never shrink. The end is inclusive to the second.
    """
    start = since - DST_MARGIN if near_dst_change(since) else since
    end = until + DST_MARGIN if near_dst_change(until) else until
    return pacific(start), pacific(end)


def batches(pushes: Sequence[StockPush]) -> list[list[tuple[str, list[StockPush]]]]:
    """The fewest calls the API allows: ≤20 products a call, ≤200 SKUs a product.

    A product with more than 200 SKUs becomes several entries, each in a different call (one
    product id per call, assumed: nothing published says repeats are allowed).
    """
    by_product: dict[str, list[StockPush]] = defaultdict(list)
    for push in pushes:
        by_product[str(push.listing_id)].append(push)
    entries = [(pid, group[i:i + MAX_SKUS_PER_PRODUCT]) for pid, group in by_product.items()
               for i in range(0, len(group), MAX_SKUS_PER_PRODUCT)]
    entries.sort(key=lambda e: -len(by_product[e[0]]))
    calls: list[list[tuple[str, list[StockPush]]]] = []
    for pid, chunk in entries:
        target = next((c for c in calls if len(c) < MAX_PRODUCTS_PER_CALL and all(p != pid for p, _ in c)), None)
        if target is None:
            calls.append(target := [])
        target.append((pid, chunk))
    return calls


class AliExpressClient:
    def __init__(self, shop: ShopConfig, secrets: Mapping[str, str], limiter: RateLimiter, *,
                 page_size: int = PAGE_SIZE) -> None:
        self.shop = shop
        self.app_key = secrets["app_key"]
        self._app_secret = secrets["app_secret"]
        self._access_token = secrets["access_token"]
        for value in (self.app_key, self._app_secret, self._access_token):
            register_secret(value)
        self.page_size = page_size
        self.url = (shop.base_url or API_HOST).rstrip("/") + "/sync"
        self.transport = Transport("aliexpress", shop.shop_id, platform_account(shop, secrets, ACCOUNT_CREDENTIALS), limiter,
                                   DEFAULT_LIMITS | dict(shop.rate_limits))

    def _call(self, method: str, business: Mapping[str, Any]) -> Any:
        """One signed gateway call; returns the API's `result`."""
        fields = {k: v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for k, v in business.items()}

        def build() -> dict[str, Any]:
            params = {"app_key": self.app_key, "method": method, "timestamp": str(int(time.time() * 1000)),
                      "sign_method": "sha256", "simplify": "false", "format": "json",
                      "session": self._access_token, **fields}
            params["sign"] = sign(params, self._app_secret)
            return {"method": "POST", "url": self.url, "data": params}

        _, body = self.transport.call(method, build, classify)
        return api_result(body) or {}

    # -- orders ------------------------------------------------------------------------------

    def sync_horizon(self, now: datetime) -> datetime:
        return now

    def changed_orders(self, since: datetime, until: datetime, listed: ListedRows | None = None
                       ) -> Iterator[list[RawBundle]]:
        """Two listings of the modified window: everything open, then FINISH (listed only on request,
        and where cancellations land). Rows `listed` knows need no address call."""
        start, end = pacific_window(since, until)
        for status in (None, "FINISH"):
            yield from self._listing({"modified_date_start": start, "modified_date_end": end}, status, listed)

    def _listing(self, window: dict[str, str], status: str | None, listed: ListedRows | None = None
                 ) -> Iterator[list[RawBundle]]:
        query: dict[str, Any] = {**window, "page_size": self.page_size}
        if status:
            query["order_status"] = status

        def walk(totals: set[int]) -> Iterator[list[dict[str, Any]]]:
            def fetch(page: int) -> tuple[list[dict[str, Any]], int]:
                result = self._call(ORDER_LIST, {"param0": {**query, "current_page": page}})
                dtos = ((result.get("target_list") or {}).get("order_dto")) or []
                totals.add(int(result.get("total_count") or 0))
                # Pages end on total_page: with an order repeated across a page edge, rows outnumber orders.
                last = page >= int(result.get("total_page") or 0)
                return dtos, 0 if last else 2**62

            return numbered_pages(fetch, page_size=self.page_size, what="aliexpress order.get")

        # Sorted by creation, filtered by modification: an order modified mid-walk leaves the window
        # and shifts every row behind it, so a walk whose total_count moved is walked again.
        walks = steady_walks(walk, _order_id, max_walks=MAX_WALKS, what="aliexpress order.get")
        yield from unlisted_pages(walks, _order_id, listed, lambda dtos: each(self._bundle, dtos))

    def _bundle(self, dto: dict[str, Any]) -> RawBundle:
        address = None
        if isinstance(dto, dict) and dto.get("order_status") in NEEDS_ADDRESS and dto.get("order_id"):
            address = self._call(ORDER_ADDRESS, {"param1": {"order_id": dto["order_id"]}})
        return {"order": dto, "address": address}

    def order_detail(self, external_id: str) -> dict[str, Any]:
        result = self._call(ORDER_DETAIL, {"param1": {"order_id": int(external_id)}})
        return result.get("data") or {}

    def fetch_order(self, external_id: str) -> RawBundle:
        """order.get has no id filter: read the detail's gmt_modified, then list the minute around it."""
        modified = pacific_readings(Doc(self.order_detail(external_id).get("gmt_modified"), "gmt_modified"))
        since, until = min(modified) - timedelta(minutes=1), max(modified) + timedelta(minutes=1)
        start, end = pacific_window(since, until)
        for status in (None, "FINISH"):
            for page in self._listing({"modified_date_start": start, "modified_date_end": end}, status):
                for bundle in page:
                    if str(bundle["order"].get("order_id")) == external_id:
                        return bundle
        raise NeedsReview(f"aliexpress order {external_id} not found")

    # -- pushes ------------------------------------------------------------------------------

    def push_stock(self, pushes: Sequence[StockPush]) -> list[PushOutcome]:
        outcomes = [PushOutcome(p.platform_sku, False, "no AliExpress product id in the SKU map", NO_LISTING_ID)
                    for p in pushes if p.listing_id is None]
        for call in batches([p for p in pushes if p.listing_id is not None]):
            body = [{"product_id": int(pid) if pid.isdigit() else pid,
                     "multiple_sku_update_list": [{"sku_code": p.platform_sku,
                                                   "inventory": max(0, min(MAX_INVENTORY, p.quantity))}
                                                  for p in chunk]} for pid, chunk in call]
            try:
                result = self._call(STOCK_UPDATE, {"mutiple_product_update_list": body})
            except NeedsReview as exc:  # the whole call refused: every SKU in it says why
                outcomes.extend(PushOutcome(p.platform_sku, False, str(exc), exc.code)
                                for _, chunk in call for p in chunk)
                continue
            failed = {(str(f.get("product_id")), str(f.get("sku_code"))): f
                      for f in result.get("update_failed_list") or []}
            for pid, chunk in call:
                for p in chunk:
                    why = failed.get((pid, p.platform_sku))
                    outcomes.append(PushOutcome(p.platform_sku, True) if why is None else PushOutcome(
                        p.platform_sku, False, str(why.get("error_message") or ""), str(why.get("error_code") or "")))
        return outcomes

    def push_tracking(self, push: TrackingPush) -> PushOutcome:
        """Fulfil with send_type "all" when the parcel holds every unit still open, else "part"."""
        children = self.order_detail(push.external_id).get("child_order_list") or []
        packed: dict[str, int] = defaultdict(int)
        for item in push.items:
            packed[item.line_id] += item.quantity
        open_units = {str(c.get("child_order_id")): int(c.get("product_count") or 0) for c in children
                      if c.get("order_status") in OPEN_LINE}
        complete = all(packed.get(child, 0) >= count for child, count in open_units.items())
        params = {"out_ref": push.external_id, "send_type": "all" if complete else "part",
                  "logistics_no": push.tracking_number, **self.service(push.carrier)}
        if push.package_ref:
            params["description"] = push.package_ref
        self._call(FULFIL, params)
        return PushOutcome(push.external_id, True)

    @staticmethod
    def service(carrier: str) -> dict[str, str]:
        key = SERVICE_NAMES.get(carrier.strip().lower())
        if key:
            return {"service_name": key}
        site = TRACKING_SITES.get(carrier.strip().lower(), FALLBACK_TRACKING_SITE)
        return {"service_name": "OTHER", "tracking_website": site}


def _order_id(dto: Any) -> str | None:
    oid = dto.get("order_id") if isinstance(dto, dict) else None
    return str(oid) if isinstance(oid, (int, str)) and not isinstance(oid, bool) and str(oid) else None
