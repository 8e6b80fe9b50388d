"""SHEIN Open Platform client for one shop: secret-key decryption, signed calls, order windows, pushes.

Every call is signed with x-lt-openKeyId, x-lt-timestamp (ms) and x-lt-signature =
randomKey + Base64(hex HMAC-SHA256(secretKey + randomKey, "openKeyId&timestamp&path")); the body is
not signed. Errors come back in HTTP 200 with a string `code` other than "0". Response bodies are
decoded with every JSON float kept as its exact decimal text (SHEIN sends money as floats), so the
raw bundle the mapping reads never held a binary float. The signature and AES live in signing.py,
the envelope and its codes in envelope.py, stock pushes and read-back in stock.py.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from config.accounts import platform_account
from config.schema import ShopConfig
from connectors.fanout import each
from connectors.http import Transport
from connectors.listed import unlisted_pages
from connectors.paging import numbered_pages
from connectors.ratelimit import RateLimiter
from connectors.shein import stock
from connectors.shein.envelope import classify, decode_exact
from connectors.shein.mapping import SELLER_SHIPS_STATUSES
from connectors.shein.signing import aes_decrypt, new_random_key, signature
from orderhub.runtime.logs import register_secret
from pipeline.errors import AuthenticationFailed, NeedsReview
from pipeline.ports import Limit, ListedRows, PushOutcome, RawBundle, StockPush, TrackingPush

ACCOUNT_CREDENTIALS = ("open_key_id",)
"""The credentials naming the SHEIN account: rate-limit buckets and the shop-configured-twice rule use them."""


# What tests and benchmarks import from the client; `classify` and `decode_exact` are re-exported.
__all__ = ["DEFAULT_LIMITS", "SheinClient", "classify", "decode_exact", "needs_ship_to", "windows"]

API_HOST = "https://openapi.sheincorp.com"
UTC8 = timezone(timedelta(hours=8))
PAGE_SIZE = 30  # order-list maximum
DETAIL_BATCH = 30  # order-detail orderNoList maximum
MAX_WINDOW = timedelta(hours=48)  # order-list refuses longer windows (docs/platforms/shein.md, 3rd-party)
DEFAULT_WINDOW = timedelta(hours=12)  # shorter than the limit: fewer orders per window, less to redo
# SHEIN publishes no limits (docs/platforms/shein.md): conservative per-path buckets [INFERRED].
DEFAULT_LIMITS: dict[str, Limit] = {
    "orderList": Limit(5.0, 10), "orderDetail": Limit(5.0, 10), "exportAddress": Limit(5.0, 10),
    "changeInventory": Limit(2.0, 5), "stockQuery": Limit(2.0, 5), "warehouseList": Limit(1.0, 2),
    "expressChannel": Limit(1.0, 2), "importExpress": Limit(2.0, 5),
}


def request_time(moment: datetime) -> str:
    return moment.astimezone(UTC8).strftime("%Y-%m-%d %H:%M:%S")


def windows(since: datetime, until: datetime, step: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """[since, until) as inclusive whole-second windows for order-list.

    SHEIN's strings have second resolution and the ends' inclusiveness is not documented, so each
    window ends at the second the next one starts at: a boundary second is read twice, never lost.
    """
    start = since.replace(microsecond=0)
    last = until.replace(microsecond=0) + (timedelta(seconds=1) if until.microsecond else timedelta(0))
    while start < last:
        end = min(start + step, last)
        yield start, end
        start = end


class SheinClient:
    def __init__(self, shop: ShopConfig, secrets: Mapping[str, str], limiter: RateLimiter, *,
                 window: timedelta = DEFAULT_WINDOW, bisect: bool = True) -> None:
        """`window`: the longest order-list window asked for (at most SHEIN's 48 h); `bisect`: halve
        windows that hold more than one page (see `_listed`); off only to test plain paging."""
        if not timedelta(0) < window <= MAX_WINDOW:
            raise ValueError(f"window must be between 0 and {MAX_WINDOW}")
        self.shop = shop
        self.window, self.bisect = window, bisect
        self.open_key_id = secrets["open_key_id"]
        app_secret = secrets["app_secret"]
        for value in (self.open_key_id, app_secret, secrets["secret_key"]):
            register_secret(value)
        try:
            self._secret_key = aes_decrypt(secrets["secret_key"], app_secret)
        except ValueError:
            raise AuthenticationFailed(shop.shop_id, "the SHEIN secret key does not decrypt with the app secret; "
                                       "re-authorise the shop") from None
        register_secret(self._secret_key)
        self.base = (shop.base_url or API_HOST).rstrip("/")
        self._warehouse = secrets.get("warehouse_code") or shop.options.get("warehouse_code")
        self._carriers: dict[str, str] | None = None
        self.transport = Transport("shein", shop.shop_id, platform_account(shop, secrets, ACCOUNT_CREDENTIALS), limiter,
                                   DEFAULT_LIMITS | dict(shop.rate_limits))

    def _call(self, operation: str, path: str, body: Any = None, *, method: str = "POST") -> Any:
        """A signed call; returns `info` decoded exactly (floats as decimal text)."""
        raw = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()

        def build() -> dict[str, Any]:
            stamp = str(int(time.time() * 1000))
            headers = {"x-lt-openKeyId": self.open_key_id, "x-lt-timestamp": stamp,
                       "x-lt-signature": signature(self.open_key_id, self._secret_key, path, stamp, new_random_key()),
                       "Content-Type": "application/json;charset=UTF-8"}
            return {"method": method, "url": self.base + path, "headers": headers,
                    "data": raw if method != "GET" else None}

        response, _ = self.transport.call(operation, build, classify)
        return (decode_exact(response.content) or {}).get("info")

    # -- orders ------------------------------------------------------------------------------

    def sync_horizon(self, now: datetime) -> datetime:
        return now

    def changed_orders(self, since: datetime, until: datetime, listed: ListedRows | None = None
                       ) -> Iterator[list[RawBundle]]:
        """Order numbers by update time, window by window and page by page, then their details in
        batches, then the address of each (the per-order call `listed` spares for details it knows)."""
        seen: set[str] = set()

        def details() -> Iterator[list[dict[str, Any]]]:
            for start, end in windows(since, until, self.window):
                for numbers in self._listed(start, end):
                    fresh = [n for n in dict.fromkeys(numbers) if n not in seen]
                    seen.update(fresh)
                    for i in range(0, len(fresh), DETAIL_BATCH):
                        yield self._details(fresh[i:i + DETAIL_BATCH])

        yield from unlisted_pages(details(), _order_no, listed, self._with_addresses)

    def _listed(self, start: datetime, end: datetime) -> Iterator[list[str]]:
        """Order numbers updated in [start, end] (whole seconds, both ends inclusive).

        Page-number paging over a list sorted by update time skips a row whenever an order listed
        before it is updated between two page reads (everything behind it shifts back by one). So a
        window holding more than one page is split until each part fits one page, which is read in
        a single call; only a one-second window with more than a page of orders is paged.
        The split aims at two-thirds of a page per part, so uneven parts rarely need a second split.
        """
        first = self._list_page(start, end, 1)
        count = int(first.get("count") or 0)
        seconds = int((end - start).total_seconds())
        if count <= PAGE_SIZE or not self.bisect or seconds <= 1:
            yield from self._paged(start, end, first)
            return
        parts = min(seconds, math.ceil(count / (PAGE_SIZE * 2 / 3)))
        cuts = [start + timedelta(seconds=seconds * i // parts) for i in range(parts + 1)]
        for part_start, part_end in itertools.pairwise(cuts):
            yield from self._listed(part_start, part_end)

    def _paged(self, start: datetime, end: datetime, first: dict[str, Any]) -> Iterator[list[str]]:
        listed: set[str] = set()
        repeats = 0

        def fetch(page: int) -> tuple[list[str], int]:
            nonlocal repeats
            info = first if page == 1 else self._list_page(start, end, page)
            numbers = [str(row["orderNo"]) for row in info.get("orderList") or []]
            repeats += len(numbers) - len(set(numbers) - listed)
            listed.update(numbers)
            # A row repeated across pages (data shifting between reads) is not a new order: count it
            # on top of `count`, or paging would stop one row short.
            return numbers, int(info.get("count") or 0) + repeats

        yield from numbered_pages(fetch, page_size=PAGE_SIZE, what="shein order-list")

    def _list_page(self, start: datetime, end: datetime, page: int) -> dict[str, Any]:
        return self._call("orderList", "/open-api/order/order-list", {
            "queryType": 2, "startTime": request_time(start), "endTime": request_time(end),
            "page": page, "pageSize": PAGE_SIZE}) or {}

    def _details(self, numbers: list[str]) -> list[dict[str, Any]]:
        if not numbers:
            return []
        return self._call("orderDetail", "/open-api/order/order-detail", {"orderNoList": numbers}) or []

    def _with_addresses(self, details: list[dict[str, Any]]) -> list[RawBundle]:
        return each(lambda order: {"order": order, "address": self._address(order) if needs_ship_to(order) else None},
                    details)

    def _address(self, order: dict[str, Any]) -> dict[str, Any] | None:
        """The ship-to, exported with handleType 1 (export only).

        handleType 2 would also move the order to "pending shipment": a read that changes platform
        state would make every re-read (overlap, reconciliation, replay) a write, and tell SHEIN we
        took the order on before any warehouse accepted it. That is `acknowledge`'s job.
        """
        info = self._call("exportAddress", "/open-api/order/export-address",
                          {"orderNo": str(order["orderNo"]), "handleType": 1}) or {}
        found = info.get("receiveMsgList") or []
        return found[0] if found else None

    def fetch_order(self, external_id: str) -> RawBundle:
        bundles = self._with_addresses(self._details([external_id]))
        if not bundles:
            raise NeedsReview(f"shein order {external_id} not found")
        return bundles[0]

    def acknowledge(self, external_id: str) -> PushOutcome:
        """Tell SHEIN we will ship it: export-address with handleType 2 moves "pending processing" (1)
        to "pending shipment" (2). Called once a warehouse accepted the order, because from then on
        we have committed to ship; earlier, a routing hold would leave SHEIN believing we are on it."""
        try:
            self._call("exportAddress", "/open-api/order/export-address", {"orderNo": external_id, "handleType": 2})
        except NeedsReview as exc:
            return PushOutcome(external_id, False, str(exc))
        return PushOutcome(external_id, True)

    # -- pushes ------------------------------------------------------------------------------

    def warehouse_code(self) -> str:
        """From the shop's config (`warehouse_code`), else the first warehouse SHEIN lists for the seller."""
        if self._warehouse is None:
            info = self._call("warehouseList", "/open-api/msc/warehouse/list", method="GET") or {}
            found = [w.get("warehouseCode") for w in info.get("list") or [] if w.get("warehouseCode")]
            if not found:
                raise NeedsReview("shein lists no warehouse for this seller")
            self._warehouse = str(found[0])
        return self._warehouse

    def push_stock(self, pushes: Sequence[StockPush]) -> list[PushOutcome]:
        """Absolute levels in our warehouse, in batches (stock.push_stock)."""
        return stock.push_stock(self._call, self.warehouse_code(), pushes)

    def stock_levels(self, platform_skus: Sequence[str]) -> dict[str, int]:
        """What SHEIN shows per skuCode in our warehouse (stock.stock_levels): the drift check reads it."""
        return stock.stock_levels(self._call, self.warehouse_code(), platform_skus)

    def carrier_code(self, carrier: str) -> str:
        """SHEIN's expressIdCode for a carrier name, from express-channel (cached per client)."""
        if self._carriers is None:
            info = self._call("expressChannel", "/open-api/order/express-channel", {}) or []
            self._carriers = {str(c.get("expressName", "")).lower(): str(c.get("expressIdCode")) for c in info}
        found = self._carriers.get(carrier.lower())
        if found is None:
            raise NeedsReview(f"shein has no carrier named {carrier!r} in express-channel")
        return found

    def push_tracking(self, push: TrackingPush) -> PushOutcome:
        """One import-batch-multiple-express call, one infoList entry per goodsId (tracking is per unit)."""
        express_id = self.carrier_code(push.carrier)
        if not all(item.line_id.isdigit() for item in push.items):
            return PushOutcome(push.external_id, False, "every tracked item must be a SHEIN goodsId")
        entries = [{"expressCode": push.tracking_number, "expressIdCode": express_id, "goodsId": int(item.line_id),
                    "status": 2} for item in push.items]
        try:
            self._call("importExpress", "/open-api/order/import-batch-multiple-express",
                       {"orderNo": push.external_id, "infoList": entries})
        except NeedsReview as exc:
            return PushOutcome(push.external_id, False, str(exc))
        return PushOutcome(push.external_id, True)


def needs_ship_to(order: dict[str, Any]) -> bool:
    """Still ours to ship (status 1 or 2): the only orders whose address a warehouse needs.

    performanceType is not consulted: its meaning is unverified, and an order held for review over it
    must carry its address, so that releasing it is a replay, not another export."""
    try:
        status = int(order.get("orderStatus"))
    except (TypeError, ValueError):
        return False
    return status in SELLER_SHIPS_STATUSES


def _order_no(order: Any) -> str | None:
    number = order.get("orderNo") if isinstance(order, dict) else None
    return str(number) if isinstance(number, (int, str)) and not isinstance(number, bool) and str(number) else None
