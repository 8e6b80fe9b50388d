"""TEMU Open Platform client for one mall: signing, the regional router, order bundles, pushes.

Every call is a POST of one flat JSON object to the region's router, chosen by its `type`, signed
with MD5(secret + sorted key+value + secret). Errors come back as HTTP 200 with `success: false`
and a numeric `errorCode`, so classification reads the body first. TEMU meters the app_key, not
the API type (20 QPS, docs/platforms/temu.md): every call draws from one shared bucket, `APP_BUCKET`.

The ship-to: `bg.order.shippinginfo.v2.get` masks the buyer's phone (and may mask more) for apps not
granted `bg.order.decryptshippinginfo.get`. A shop whose config declares `options.decrypt_shipping =
"true"` reads the decrypted ship-to instead; if TEMU's gateway still answers "no permission for this API"
(3000027 app, 3000032 token), the client says so once in the log and reads the masked one from then on.

The router and the app's bucket live in router.py, the signature in signing.py, the envelope and
TEMU's codes in envelope.py, stock edits in stock.py.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import structlog

from config.schema import ShopConfig
from connectors.fanout import each
from connectors.http import Classifier, Transport
from connectors.listed import unlisted_pages
from connectors.paging import numbered_pages, steady_walks
from connectors.ratelimit import RateLimiter
from connectors.temu import stock
from connectors.temu.envelope import (
    NO_API_ACCESS,
    STILL_PRICING_CODE,
    TRACKING_USED_CODE,
    classify,
    classify_optional,
)
from connectors.temu.router import APP_BUCKET, AppBudget, router_url
from connectors.temu.signing import sign
from orderhub.runtime.logs import register_secret
from pipeline.errors import NeedsReview
from pipeline.ports import Limit, ListedRows, PushOutcome, RawBundle, StockPush, TrackingPush

# What tests and benchmarks import from the client; `sign` and the classifiers are re-exported.
__all__ = ["DECRYPT", "DEFAULT_LIMITS", "MAX_WALKS", "PAGE_SIZE", "SHIPPING_INFO", "TemuClient", "classify",
           "classify_optional", "sign"]

DEFAULT_LIMITS: dict[str, Limit] = {APP_BUCKET: Limit(20.0, 20)}
PAGE_SIZE = 100
MAX_WALKS = 3  # page-number paging has no snapshot: walk again (bounded) when the total moves
PENDING = 1
SHIPPING_INFO = "bg.order.shippinginfo.v2.get"
DECRYPT = "bg.order.decryptshippinginfo.get"
DECRYPT_OPTION = "decrypt_shipping"

log = structlog.get_logger()


def declared_decrypt(shop: ShopConfig) -> bool:
    """`options.decrypt_shipping`: "true" when the shop's app is granted the decrypt API, else "false"."""
    value = dict(shop.options).get(DECRYPT_OPTION, "false").strip().lower()
    if value not in ("true", "false"):
        raise ValueError(f"temu shop {shop.shop_id}: options.{DECRYPT_OPTION} must be \"true\" or \"false\"")
    return value == "true"


class TemuClient:
    def __init__(self, shop: ShopConfig, secrets: Mapping[str, str], limiter: RateLimiter) -> None:
        self.shop = shop
        self.app_key = secrets["app_key"]
        self._app_secret = secrets["app_secret"]
        self._access_token = secrets["access_token"]
        for value in (self.app_key, self._app_secret, self._access_token):
            register_secret(value)
        self.url = router_url(shop)
        limits = DEFAULT_LIMITS | dict(shop.rate_limits)
        budget = AppBudget(limiter, limits[APP_BUCKET])
        self.transport = Transport("temu", shop.shop_id, self.app_key, budget, limits)  # type: ignore[arg-type]
        self._carriers: dict[str, int] | None = None
        self._warehouse: str | None = None
        # None: declared, not yet answered by TEMU; True: granted; False: not declared, or refused.
        self._decrypt: bool | None = None if declared_decrypt(shop) else False
        self._decrypt_lock = threading.RLock()

    def call(self, api_type: str, /, *, classifier: Classifier = classify, **business: Any) -> Any:
        """One signed router call; returns `result` of a successful answer."""
        def build() -> dict[str, Any]:
            params = {"type": api_type, "app_key": self.app_key, "access_token": self._access_token,
                      "timestamp": int(time.time()), "data_type": "JSON", **business}
            params["sign"] = sign(params, self._app_secret)
            return {"method": "POST", "url": self.url, "data": json.dumps(params, ensure_ascii=False).encode(),
                    "headers": {"content-type": "application/json"}}

        _, reply = self.transport.call(api_type, build, classifier)
        return reply.get("result")

    # -- orders ------------------------------------------------------------------------------

    def sync_horizon(self, now: datetime) -> datetime:
        return now

    def changed_orders(self, since: datetime, until: datetime, listed: ListedRows | None = None
                       ) -> Iterator[list[RawBundle]]:
        """Pages of bundles for orders updated in [since, until] (TEMU's range is inclusive).

        Page numbers over a live sort shift when an order changes mid-walk; if `totalItemNum` moved
        during a walk, the whole window is walked again. A walk again costs only its list pages: an
        entry listed exactly as already bundled (in this walk, or by `listed` in an earlier sync)
        was stored whole before, so its shipping and amount calls (two per order, the bulk of the
        app's one 20 QPS budget) are not made a second time.
        """
        window = {"updateAtStart": int(since.timestamp()), "updateAtEnd": int(until.timestamp()),
                  "sortby": "updateTime"}
        walks = steady_walks(lambda totals: self._walk(window, totals), _parent_sn, max_walks=MAX_WALKS,
                             what="temu bg.order.list.v2.get")
        unpriced: set[str] = set()
        priced_only = _PricedOnly(listed, unpriced) if listed is not None else None
        yield from unlisted_pages(walks, _parent_sn, priced_only, lambda rows: each(
            lambda row: self._bundle(row, unpriced), rows))

    def _walk(self, window: dict[str, Any], totals: set[int]) -> Iterator[list[dict[str, Any]]]:
        seen: set[str] = set()
        repeats = 0

        def fetch(number: int) -> tuple[list[dict[str, Any]], int]:
            nonlocal repeats
            result = self.call("bg.order.list.v2.get", pageNumber=number, pageSize=PAGE_SIZE, **window) or {}
            items = result.get("pageItems") or []
            total = int(result.get("totalItemNum") or 0)
            totals.add(total)
            for item in items:
                sn = _parent_sn(item)
                repeats += sn in seen
                seen.add(sn)
            return items, total + repeats  # an entry repeated across pages does not count toward the total

        yield from numbered_pages(fetch, page_size=PAGE_SIZE, what="temu bg.order.list.v2.get")

    def _bundle(self, item: dict[str, Any], unpriced: set[str] | None = None) -> RawBundle:
        """`{"order", "shipping", "amount"}`; shipping stays null while PENDING (TEMU refuses it then),
        amount stays null while TEMU is still calculating it (140020008), and the order is noted in
        `unpriced` so that its list row is not remembered: the next sync that lists it asks again."""
        sn = _parent_sn(item)
        parent = item.get("parentOrderMap") if isinstance(item, dict) else None
        if not sn:
            return {"order": item, "shipping": None, "amount": None}
        status = parent.get("parentOrderStatus") if isinstance(parent, dict) else None
        shipping = None if status == PENDING else self._shipping(sn)
        try:
            amount = self.call("bg.order.amount.query", parentOrderSn=sn)
        except NeedsReview as refused:
            if refused.code != STILL_PRICING_CODE:
                raise
            amount = None
            if unpriced is not None:
                unpriced.add(sn)
        return {"order": item, "shipping": shipping, "amount": amount}

    def _shipping(self, sn: str) -> Any:
        """The decrypted ship-to where the shop declares the decrypt API, else (or once TEMU refuses it
        for want of permission) the masked one; the mapping tells a masked document by its content.

        Until TEMU has answered one decrypt call, calls go one at a time (bundles are fetched in
        parallel), so a missing grant costs one refused call and one log line, not one per thread."""
        if self._decrypt is None:
            with self._decrypt_lock:
                if self._decrypt is None:
                    return self._decrypted_or_masked(sn)
        return self._decrypted_or_masked(sn) if self._decrypt else self.call(SHIPPING_INFO, parentOrderSn=sn)

    def _decrypted_or_masked(self, sn: str) -> Any:
        try:
            found = self.call(DECRYPT, classifier=classify_optional, parentOrderSn=sn)
        except NeedsReview as refused:
            if refused.code not in NO_API_ACCESS:
                raise
            with self._decrypt_lock:
                if self._decrypt is not False:
                    self._decrypt = False
                    log.warning("temu.decrypt_not_granted", platform="temu", shop=self.shop.shop_id,
                                code=refused.code, detail="options.decrypt_shipping is true but TEMU refuses the "
                                "API: reading the masked ship-to for this shop from now on")
            return self.call(SHIPPING_INFO, parentOrderSn=sn)
        self._decrypt = True
        return found

    def fetch_order(self, external_id: str) -> RawBundle:
        item = self.call("bg.order.detail.v2.get", parentOrderSn=external_id)
        if not item:
            raise NeedsReview(f"temu order {external_id} not found")
        return self._bundle(item)

    # -- pushes ------------------------------------------------------------------------------

    def push_stock(self, pushes: Sequence[StockPush]) -> list[PushOutcome]:
        """One absolute edit per goodsId, answered per SKU (stock.push_stock)."""
        return stock.push_stock(self.call, self.shop.shop_id, pushes)

    def carrier_id(self, carrier: str) -> int:
        if self._carriers is None:
            result = self.call("bg.logistics.companies.get") or {}
            self._carriers = {str(c["logisticsServiceProviderName"]).lower(): c["logisticsServiceProviderId"]
                              for c in result.get("logisticsServiceProviderList", [])}
        found = self._carriers.get(carrier.lower())
        if found is None:
            raise NeedsReview(f"temu has no logistics provider named {carrier!r}")
        return found

    def warehouse_id(self) -> str:
        if self._warehouse is None:
            rows = (self.call("bg.logistics.warehouse.list.get") or {}).get("warehouseList") or []
            if not rows:
                raise NeedsReview("temu mall has no self-shipping warehouse")
            self._warehouse = str(rows[0]["warehouseId"])
        return self._warehouse

    def push_tracking(self, push: TrackingPush) -> PushOutcome:
        """One package (sendType 0) naming its child orders and quantities.

        A refusal because the tracking number is used counts as accepted when every child it names is
        already shipped: that is our own earlier confirm whose answer was lost. TEMU offers no lookup
        of a package's tracking number, so this is the closest check available.
        """
        order = self.fetch_order(push.external_id)["order"]
        children = {c.get("orderSn"): c for c in order.get("orderList", []) if isinstance(c, dict)}
        infos = []
        for item in push.items:
            child = children.get(item.line_id)
            if child is None:
                return PushOutcome(push.external_id, False, f"{item.line_id} is not a child order of it")
            sku = child.get("skuId") or ((child.get("productList") or [{}])[0]).get("productSkuId")
            infos.append({"parentOrderSn": push.external_id, "orderSn": item.line_id, "goodsId": child.get("goodsId"),
                          "skuId": sku, "quantity": item.quantity})
        package = {"carrierId": self.carrier_id(push.carrier), "trackingNumber": push.tracking_number,
                   "selfShippingWarehouseId": self.warehouse_id(), "orderSendInfoList": infos}
        try:
            self.call("bg.logistics.shipment.v2.confirm", sendType=0, sendRequestList=[package])
        except NeedsReview as refused:
            if refused.code == str(TRACKING_USED_CODE) and self._already_shipped(push):
                return PushOutcome(push.external_id, True, "already confirmed")
            return PushOutcome(push.external_id, False, str(refused))
        return PushOutcome(push.external_id, True)

    def _already_shipped(self, push: TrackingPush) -> bool:
        order = self.fetch_order(push.external_id)["order"]
        status = {c.get("orderSn"): c.get("orderStatus") for c in order.get("orderList", []) if isinstance(c, dict)}
        return all(status.get(item.line_id) in (4, 5, 41, 51) for item in push.items)


class _PricedOnly:
    """`ListedRows` that does not remember the rows of orders whose amounts were still being calculated,
    so a later sync listing them makes the amount call again instead of skipping them as stored whole."""

    def __init__(self, listed: ListedRows, unpriced: set[str]) -> None:
        self._listed, self._unpriced = listed, unpriced

    def known(self, rows: Mapping[str, Any]) -> set[str]:
        return self._listed.known(rows)

    def remember(self, rows: Mapping[str, Any]) -> None:
        self._listed.remember({sn: row for sn, row in rows.items() if sn not in self._unpriced})


def _parent_sn(item: Any) -> str | None:
    parent = item.get("parentOrderMap") if isinstance(item, dict) else None
    sn = parent.get("parentOrderSn") if isinstance(parent, dict) else None
    return sn if isinstance(sn, str) and sn else None
