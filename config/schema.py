"""The shape of one seller's config file (`config/sellers/<seller>.toml`), as msgspec Structs.

Unknown keys are errors (forbid_unknown_fields). Credentials are references only (`env:NAME`,
`file:PATH` or `file:PATH#key`); the loader resolves them and checks every rule in one pass.
"""

from __future__ import annotations

from typing import Literal

import msgspec


class Limit(msgspec.Struct, frozen=True):
    """`rate` tokens per second refill a bucket holding at most `burst` (the platforms' own model)."""

    rate: float
    burst: int

    def scaled(self, factor: float) -> Limit:
        """The same limit with time running `factor` times faster (a time-scaled sandbox)."""
        return Limit(self.rate * factor, self.burst)


SANDBOX = "sandbox"
"""A `base_url` of "sandbox" means: the emulator of this platform that `orderhub sandbox serve` runs."""

ID_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
"""Seller ids, shop ids and warehouse ids: 1-64 characters, lower-case letters, digits, `.`, `_` and `-`,
starting with a letter or digit. Ids become parts of Redis keys, log fields and webhook URLs, so they never
hold `:` (the key separator), glob characters (`*`, `?`, `[`), `/` or spaces: nothing needs to split or
escape them."""


class ShopConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    platform: str
    shop_id: str
    credentials: dict[str, str]
    region: str = ""
    marketplace: str = ""
    base_url: str = ""
    poll_interval_seconds: int = 300
    enabled: bool = True
    rate_limits: dict[str, Limit] = {}
    webhook: bool = False
    options: dict[str, str] = {}  # platform-specific settings, e.g. SHEIN `warehouse_code` for stock pushes
    # Buyer countries the shop sells to (ISO alpha-2): the warehouses serving them make up its stock.
    # Empty: every warehouse of the seller counts.
    countries: list[str] = []


class SkuMapConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Platform SKU → seller SKU; `identity` lets an unmapped platform SKU stand for itself."""

    default: Literal["identity", "none"] = "identity"
    skus: dict[str, str] = {}
    platforms: dict[str, dict[str, str]] = {}
    listings: dict[str, dict[str, str]] = {}  # platform → {platform SKU: listing/product id}

    def seller_sku(self, platform: str, platform_sku: str, reported: str | None = None) -> str | None:
        """An explicit mapping wins; then the seller's own code the platform reports beside its SKU id
        (TEMU `extCode`), which under `identity` stands for itself; then the platform SKU itself.
        Whitespace around a code is never part of it: sellers paste codes into listing forms with it."""
        platform_sku, reported = platform_sku.strip(), (reported or "").strip() or None
        specific = self.platforms.get(platform, {})
        if platform_sku in specific:
            return specific[platform_sku]
        if platform_sku in self.skus:
            return self.skus[platform_sku]
        if self.default != "identity":
            return None
        return reported or platform_sku

    def explicit(self) -> dict[str, str]:
        """Every platform SKU an entry names, on any platform, with the seller SKU it stands for."""
        named = dict(self.skus)
        for mapping in self.platforms.values():
            named.update(mapping)
        return named


class WarehouseConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    id: str
    kind: str
    credentials: dict[str, str]
    countries: list[str]
    base_url: str = ""
    priority: int = 100
    capabilities: list[str] = []
    cost_hint: float = 1.0
    options: dict[str, str] = {}
    enabled: bool = True
    # Where the warehouse stands (ISO alpha-2; "" unknown): an order to another country ships cross-border.
    country: str = ""
    # Days from routing to the parcel leaving (pick, pack, hand-over): the routing what-if counts an order
    # whose ship-by falls before that as a ship-by miss.
    handling_days: float = 1.0


class RoutingConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    allow_split: bool = False
    hold_on_unknown_sku: bool = True


class ChannelStockConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """How much of the stock one channel may show: `share` of what is left after the buffer, at most
    `max_shown`, and 0 when that comes out below `min_shown` (a listing showing 1 sells the last unit
    on five platforms at once)."""

    share: float = 1.0
    max_shown: int | None = None
    min_shown: int = 0
    safety_buffer: int | None = None  # overrides the seller-wide buffer for this channel


class StockRiskConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One warehouse's own replenishment terms (`[stock.warehouses.<id>]`); unset fields take the seller's."""

    lead_time_days: float | None = None
    safety_days: float | None = None
    risk_threshold: float | None = None


class StockConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    safety_buffer: int = 0
    # When a reservation brings a SKU's shown quantity down to this, push it at once instead of
    # waiting for the schedule (the last units are the ones oversold).
    push_at_or_below: int = 2
    interval_seconds: int = 300
    # A run with more changed listings than this sends them as bulk feeds on platforms that take them
    # (Amazon JSON_LISTINGS_FEED, processed minutes later); at or below it, one push call per listing as usual.
    feed_threshold: int = 500
    platforms: dict[str, ChannelStockConfig] = {}  # by shop id or by platform name; a shop id wins
    # Stock-out risk (pipeline/decisions): days until a replenishment ordered now arrives, the cover to
    # keep beyond it, and the stock-out probability above which a SKU is at risk (and alerts).
    lead_time_days: float = 14.0
    safety_days: float = 7.0
    risk_threshold: float = 0.2
    warehouses: dict[str, StockRiskConfig] = {}  # per warehouse id: overrides of the three above

    def channel(self, platform: str, shop_id: str = "") -> ChannelStockConfig:
        return self.platforms.get(shop_id) or self.platforms.get(platform, ChannelStockConfig())

    def risk_terms(self, warehouse: str) -> tuple[float, float, float]:
        """(lead_time_days, safety_days, risk_threshold) at `warehouse`, its overrides applied."""
        own = self.warehouses.get(warehouse, StockRiskConfig())
        return (self.lead_time_days if own.lead_time_days is None else own.lead_time_days,
                self.safety_days if own.safety_days is None else own.safety_days,
                self.risk_threshold if own.risk_threshold is None else own.risk_threshold)


class TransferLane(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A way stock can move between two of the seller's warehouses (`[[transfer_lanes]]`): `days` in
    transit and `cost_per_unit` (in the seller's own unit of cost, the same as `cost_hint`)."""

    from_: str = msgspec.field(name="from")
    to: str
    days: float
    cost_per_unit: float


class RetentionConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """How long an order stays where (pipeline/archive/move.py): closed orders leave Redis for the archive
    after `hot_days`, their tombstones (which recognise one listed again) last `tombstone_days`, the buyer's
    data is scrubbed from them `pii_days` after they closed, and `orderhub archive prune` drops archived
    orders closed `archive_days` ago."""

    hot_days: int = 7
    tombstone_days: int = 90
    archive_days: int = 730
    # Buyer data (ship-to, raw payload, timeline addresses) is scrubbed from archived orders this many days
    # after they closed (pipeline/archive/scrub.py); Amazon's Data Protection Policy allows 30 after shipment.
    pii_days: int = 30


class SellerConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    seller: str
    name: str = ""
    shops: list[ShopConfig] = []
    sku_map: SkuMapConfig = SkuMapConfig()
    warehouses: list[WarehouseConfig] = []
    routing: RoutingConfig = RoutingConfig()
    stock: StockConfig = StockConfig()
    retention: RetentionConfig = RetentionConfig()
    transfer_lanes: list[TransferLane] = []
    source: str = ""  # the file it was loaded from, set by the loader

    def shop(self, shop_id: str) -> ShopConfig:
        for shop in self.shops:
            if shop.shop_id == shop_id:
                return shop
        raise KeyError(f"seller {self.seller} has no shop {shop_id!r}")
