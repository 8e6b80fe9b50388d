"""The shapes the pipeline asks of a platform connector, without importing any platform module.

A connector is one record, `ConnectorSpec` (a warehouse one `WarehouseSpec`): its name, mapping
functions, client factory, the credentials it needs and what it can do (`Capabilities`), declared in
its package's `__init__.py`. `connectors/registry.py` collects the records (built-in and installed
through entry points) and hands them to the pipeline and workers, which read a capability where they
need it instead of probing a connector for attributes. Clients implement the Protocols below (a
warehouse's, `WarehouseClient` and the outbound shapes it takes and returns, are in
pipeline/warehouse_ports.py, re-exported here). Everything passed here is plain data (raw JSON dicts,
canonical Structs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import msgspec

# A rate limit is configured (config.schema owns it) and honoured by every client: re-exported here.
from config.schema import Limit as Limit
from pipeline.model import Order
from pipeline.warehouse_ports import AddressUpdate as AddressUpdate
from pipeline.warehouse_ports import OutboundLine as OutboundLine
from pipeline.warehouse_ports import OutboundRequest as OutboundRequest
from pipeline.warehouse_ports import OutboundStatus as OutboundStatus
from pipeline.warehouse_ports import WarehouseClient

RawBundle = dict[str, Any]
"""Every document fetched for one order, e.g. Amazon `{"order":..., "items":[...], "address":...}`."""


class ShopRef(msgspec.Struct, frozen=True):
    """Who an order belongs to: enough for a mapping function to build the order key."""

    seller: str
    platform: str
    shop_id: str


class BundleIdentity(msgspec.Struct, frozen=True):
    """What can be read from a raw bundle even when it does not map (so a bad one can still be held)."""

    external_id: str | None
    updated_at: datetime | None


class StockPush(msgspec.Struct, frozen=True):
    """Set the sellable quantity of one platform SKU; `listing_id` is the platform's product id where its
    API needs one besides the SKU (TikTok product_id, AliExpress product_id, TEMU goodsId)."""

    platform_sku: str
    quantity: int
    listing_id: str | None = None


class TrackedItem(msgspec.Struct, frozen=True):
    """A platform line id and how many of its units a package holds (1 for unit-per-row platforms)."""

    line_id: str
    quantity: int


class TrackingPush(msgspec.Struct, frozen=True, kw_only=True):
    external_id: str
    carrier: str
    tracking_number: str
    shipped_at: datetime
    items: tuple[TrackedItem, ...]
    package_ref: str = ""


class PushOutcome(msgspec.Struct, frozen=True):
    """What the platform said about one pushed item: accepted, or refused with its own message and, when
    it gave one, its own error code (a stable, low-cardinality reason: stock refusals are counted by it)."""

    ref: str
    accepted: bool
    message: str = ""
    code: str = ""


class ListedRows(Protocol):
    """What the store already holds whole, by the list row it was read from.

    A platform whose order list is a summary (Amazon, TEMU, AliExpress) needs more calls per order
    to complete a bundle; every sync re-reads an overlap window, and a run cut short re-reads its
    slice. A list row byte-identical to the one a stored bundle was built from means the order has
    not changed, so those calls can be skipped: the client asks `known` before making them and
    calls `remember` once the page it yielded has been stored (a generator resumes only then)."""

    def known(self, rows: Mapping[str, Any]) -> set[str]:
        """The external ids, of `{external id: list row}`, whose stored bundle came from that row."""

    def remember(self, rows: Mapping[str, Any]) -> None:
        """The rows of the bundles just yielded (and so stored)."""


class PlatformClient(Protocol):
    """One shop's authenticated, rate-limited connection to its platform."""

    def sync_horizon(self, now: datetime) -> datetime:
        """The latest `until` this platform accepts for a change query (Amazon: two minutes ago)."""

    def changed_orders(self, since: datetime, until: datetime, listed: ListedRows | None = None
                       ) -> Iterator[list[RawBundle]]:
        """Pages of raw bundles for orders updated in [since, until), paging to the end; rows that
        `listed` knows are left out (platforms whose list rows are whole orders may ignore it)."""

    def fetch_order(self, external_id: str) -> RawBundle:
        """The raw bundle of one order (webhook-triggered fetch, replay)."""

    def push_stock(self, pushes: Sequence[StockPush]) -> list[PushOutcome]: ...

    def push_tracking(self, push: TrackingPush) -> PushOutcome: ...


class AcknowledgingClient(PlatformClient, Protocol):
    """The client of a platform that wants to be told when the seller has taken an order on (SHEIN:
    export-address with handleType 2 moves it from "pending processing" to "pending shipment"). The
    dispatch worker calls it once a warehouse has accepted the order, for connectors that declare
    `Capabilities(acknowledges=True)`."""

    def acknowledge(self, external_id: str) -> PushOutcome: ...


class StockReadingClient(PlatformClient, Protocol):
    """The client of a platform with a stock read API, for connectors that declare
    `Capabilities(stock_read_back=True)`: the drift check compares it with what was pushed."""

    def stock_levels(self, platform_skus: Sequence[str]) -> dict[str, int]:
        """The quantity the platform shows now per platform SKU (SKUs it does not list are left out)."""


class StockFeedClient(PlatformClient, Protocol):
    """The client of a platform that takes many stock numbers as one asynchronous feed (Amazon's
    JSON_LISTINGS_FEED), for connectors that declare `Capabilities(stock_feed_size=n)`. A feed is submitted
    now and answers later: pipeline/stock_sync.py records it in Redis before it exists on the platform and
    asks for its outcome in later runs, holding its listings back until then."""

    def submit_stock_feed(self, pushes: Sequence[StockPush], before_create: Callable[[], None]) -> str:
        """Upload `pushes` (at most `stock_feed_size`) and create the feed; returns the platform's feed id.
        `before_create()` is called once the document is uploaded and just before the call that creates the
        feed (which is never retried blindly), so the caller can note a submission whose answer may be lost."""

    def stock_feed_outcomes(self, feed_id: str, pushes: Sequence[StockPush]) -> list[PushOutcome] | None:
        """None while the platform is still processing the feed; once it has finished, one outcome per push
        (not accepted where the platform refused it, ended the feed without a verdict, or its report does not
        account for it)."""

    def stock_feeds_settled(self, since: datetime, known: set[str]) -> bool:
        """Whether every stock feed created on the platform since `since`, except those in `known`, has
        finished: then a submission whose createFeed answer was lost can no longer land."""


@dataclass(frozen=True)
class VerifiedPush:
    """What a push whose signature verified says, as far as the guard (pipeline/push_guard.py) needs it."""

    order_ids: tuple[str, ...]
    """The orders to fetch, as the push names them (not yet validated); empty: acknowledged, nothing to do."""
    push_id: str
    """What makes this push unique for replay memory: the platform's notification id when it sends one,
    else the signature (which covers the signed time, so a retry stamped anew is a new push)."""
    signed_at: datetime | None
    """The time the platform signed (aware UTC); None when the platform signs no time."""
    account: str | None
    """The platform's own id of the shop the push names in a signed field (TikTok `shop_id`, TEMU `mallId`);
    None when the push names none."""


@runtime_checkable
class WebhookReceiver(Protocol):
    """A platform's push notifications: verify first, then say what the push is about."""

    ok_reply: Any
    """The body the platform expects with the 200 for an accepted push (else it retries)."""
    names_account: bool
    """Its verified pushes name the platform shop (`VerifiedPush.account`): a webhook-enabled shop of this
    platform must set `options.platform_shop_id` so a push can be bound to it."""

    def verify(self, secrets: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> VerifiedPush | None:
        """What a verified push says; None when the signature does not verify."""


@dataclass(frozen=True, kw_only=True)
class Capabilities:
    """What a platform connector can do beyond the calls every `PlatformClient` makes; all off by default."""

    acknowledges: bool = False
    """Its client is an `AcknowledgingClient`: told once a warehouse has accepted an order."""
    webhooks: WebhookReceiver | None = None
    """How its HTTP pushes are verified and read; None: polling is the only way orders arrive."""
    stock_needs_listing: bool = False
    """Its stock API addresses a product (listing) id besides the SKU: pushes need sku_map.listings."""
    stock_read_back: bool = False
    """Its client is a `StockReadingClient`: what the platform shows can be checked for drift."""
    stock_feed_size: int = 0
    """Its client is a `StockFeedClient` taking up to this many listings per feed: a run with more changed
    listings than the seller's `stock.feed_threshold` pushes them as feeds. 0: no feed, pushes only."""


ClientFactory = Callable[[Any, Mapping[str, str], Any], PlatformClient]
"""`(shop config, resolved secrets, rate limiter) -> client`: usually the client class itself."""


@dataclass(frozen=True, kw_only=True)
class ConnectorSpec:
    """A platform as the pipeline sees it: pure mapping, a factory for clients, and what it can do.

    Declared once per platform (`CONNECTOR` in `connectors/<platform>/__init__.py`, or an
    `orderhub.connectors` entry point naming one) and read from `connectors.registry.PLATFORMS`."""

    name: str
    map_raw: Callable[[bytes, ShopRef], Order]
    """Pure and total: a valid Order from a bundle's stored bytes (what sync maps, so it never parses a
    bundle twice), or MappingError/InvalidModel naming the field path."""
    map_order: Callable[[RawBundle, ShopRef], Order]
    """`map_raw` of a bundle still in dict form (the CLI, tests); the same result for the same bundle."""
    identify: Callable[[RawBundle], BundleIdentity]
    """Best effort, never raises: the external id and update time of a possibly broken bundle."""
    read_payload: Callable[[bytes], Any]
    """Platform JSON exactly as the client reads a response body (a recorded payload maps as the sync
    mapped it); ValueError when it is not JSON."""
    client: ClientFactory
    credentials: tuple[str, ...]
    """The credential names its client needs; a shop missing one is a config error."""
    overlap: timedelta
    """How far back each incremental sync re-reads, for late-arriving updates."""
    capabilities: Capabilities = field(default_factory=Capabilities)
    account_credentials: tuple[str, ...] = ()
    """The credentials that name the platform account (never the app secret every shop of an app shares):
    two shops with equal values are one platform shop (config/accounts.py). None declared: all of them."""
    raw_safe_fields: frozenset[str] = frozenset()
    """Dotted paths in its raw bundle ("order.status"; a list's items share the list's path) whose values
    carry no buyer detail: `orderhub order show --raw` shows these and masks every other value (none by
    default, so a connector that declares nothing shows no raw value without `--pii`)."""

    def __post_init__(self) -> None:
        _check_spec(self, "connector")
        fields = self.raw_safe_fields
        if not isinstance(fields, frozenset) or not all(
                isinstance(f, str) and f and all(f.split(".")) for f in fields):
            raise ValueError(f"connector {self.name}: raw_safe_fields must be a frozenset of dotted field paths")


PlatformConnector = ConnectorSpec
"""The name the pipeline's signatures use for a platform connector."""


# ---------------------------------------------------------------------------------------------
# Warehouses (their client and its shapes: pipeline/warehouse_ports.py)


@dataclass(frozen=True, kw_only=True)
class WarehouseSpec:
    """A warehouse WMS as the pipeline sees it: declared once per kind (`CONNECTOR` in
    `connectors/warehouses/<kind>/__init__.py`, or an `orderhub.warehouses` entry point naming one) and
    read from `connectors.warehouses.registry.WAREHOUSES`. What varies between warehouses is said by
    the client itself (`WarehouseClient.bounds_shipment_reads`); every other call is required."""

    name: str
    client: Callable[[Any, Mapping[str, str], Any], WarehouseClient]
    """`(warehouse config, resolved secrets, rate limiter) -> client`: usually the client class itself."""
    credentials: tuple[str, ...]
    """The credential names its client needs; a warehouse missing one is a config error."""

    def __post_init__(self) -> None:
        _check_spec(self, "warehouse")


WarehouseConnector = WarehouseSpec
"""The name the pipeline's signatures use for a warehouse connector."""


def _check_spec(spec: ConnectorSpec | WarehouseSpec, what: str) -> None:
    """A record that cannot work fails where it is declared, not at the first order."""
    if not isinstance(spec.name, str) or not spec.name.isidentifier() or spec.name != spec.name.lower():
        raise ValueError(f"{what} name must be a lowercase identifier, got {spec.name!r}")
    if not isinstance(spec.credentials, tuple) or not all(isinstance(c, str) and c for c in spec.credentials):
        raise ValueError(f"{what} {spec.name}: credentials must be a tuple of credential names")
    if isinstance(spec, ConnectorSpec):
        if not isinstance(spec.overlap, timedelta) or not isinstance(spec.capabilities, Capabilities):
            raise ValueError(f"connector {spec.name}: overlap must be a timedelta, capabilities a Capabilities")
        receiver = spec.capabilities.webhooks
        if receiver is not None and not isinstance(receiver, WebhookReceiver):
            raise ValueError(f"connector {spec.name}: webhooks must be a WebhookReceiver "
                             "(verify, ok_reply, names_account)")
