"""How the contract suite drives each platform: its emulator, a shop wired to it, a wrong secret.

One `Harness` per registered connector; the suite is parametrized over the registry and fails if a
connector has no harness, so a new platform cannot skip the contract. A connector installed as a
plugin (an `orderhub.connectors` entry point) brings its harness as an `orderhub.contract_harnesses`
entry point: a function returning its `Harness`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import entry_points
from typing import Any

from config.schema import ShopConfig
from orderhub.runtime.logs import register_secret
from pipeline.ports import Limit
from sandbox import AmazonEmulator, RateLimit, SandboxClock, TikTokEmulator
from sandbox.aliexpress import shapes as aliexpress_shapes
from sandbox.aliexpress.emulator import AliExpressEmulator
from sandbox.amazon import shapes as amazon_shapes
from sandbox.core.demo_accounts import (
    ALIEXPRESS_DEMO_ACCOUNTS,
    AMAZON_DEMO_ACCOUNTS,
    SHEIN_DEMO_SHOPS,
    TEMU_DEMO_SHOPS,
    TIKTOK_DEMO_SHOPS,
)
from sandbox.core.server import Emulator
from sandbox.shein import shapes as shein_shapes
from sandbox.shein.emulator import SheinEmulator
from sandbox.temu import shapes as temu_shapes
from sandbox.temu.emulator import TemuEmulator
from sandbox.tiktok import shapes as tiktok_shapes

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
UNLIMITED = 10_000.0  # per second; the frozen sandbox clock never refills, hence the emulators' huge burst


@dataclass(frozen=True)
class Harness:
    platform: str
    make_emulator: Callable[..., Emulator]
    secrets: dict[str, str]
    secret_name: str  # the credential a wrong-secret test corrupts
    shop_extra: dict[str, str]
    operations: tuple[str, ...]  # the emulator's operation names, for unlimited test limits
    platform_limits: dict[str, RateLimit]  # the real published limits (for time-scaled tests)
    malformations: int  # how many malformation variants the emulator renders (see its *_shapes module)

    def malformed(self, emulator: Emulator, order_id: str) -> bool:
        return emulator.faults.malformation(order_id, self.malformations) is not None

    def emulator(self, *, orders: int, seed: int = 11, clock: SandboxClock | None = None,
                 limits: dict[str, RateLimit] | None = None, **settings: Any) -> Emulator:
        clock = clock or SandboxClock(start=START, factor=0)
        limits = limits if limits is not None else {op: RateLimit(UNLIMITED, 1_000_000) for op in self.operations}
        return self.make_emulator(clock=clock, orders=orders, seed=seed, rate_limits=limits, **settings)

    def shop(self, emulator: Emulator, *, limits: dict[str, Limit] | None = None,
             secrets: dict[str, str] | None = None) -> tuple[ShopConfig, dict[str, str]]:
        secrets = dict(secrets or self.secrets)
        for value in secrets.values():
            register_secret(value)
        limits = limits if limits is not None else {op: Limit(UNLIMITED, 10_000) for op in self.operations}
        shop = ShopConfig(platform=self.platform, shop_id=f"contract-{self.platform}", credentials={},
                          base_url=emulator.url, rate_limits=limits, **self.shop_extra)
        return shop, secrets

    def wrong_secrets(self) -> dict[str, str]:
        return self.secrets | {self.secret_name: self.secrets[self.secret_name][::-1] + "x"}


_AMAZON = AMAZON_DEMO_ACCOUNTS[0]
_TIKTOK = TIKTOK_DEMO_SHOPS[0]

HARNESSES: dict[str, Harness] = {
    "amazon": Harness(
        platform="amazon",
        make_emulator=lambda **kw: AmazonEmulator((_AMAZON,), **kw),
        secrets={"client_id": _AMAZON.client_id, "client_secret": _AMAZON.client_secret,
                 "refresh_token": _AMAZON.refresh_token, "seller_id": _AMAZON.seller_id},
        secret_name="client_secret",
        shop_extra={"marketplace": _AMAZON.marketplace_ids[0], "region": "na"},
        operations=("getOrders", "getOrder", "getOrderItems", "getOrderAddress", "createRestrictedDataToken",
                    "patchListingsItem", "confirmShipment", "lwaToken"),
        platform_limits={"getOrders": RateLimit(0.0167, 20), "getOrderItems": RateLimit(0.5, 30),
                         "getOrderAddress": RateLimit(0.5, 30), "getOrder": RateLimit(0.5, 30),
                         "createRestrictedDataToken": RateLimit(1, 10)},
        malformations=amazon_shapes.MALFORMATIONS,
    ),
    "tiktok": Harness(
        platform="tiktok",
        make_emulator=lambda **kw: TikTokEmulator((_TIKTOK,), **kw),
        secrets={"app_key": _TIKTOK.app_key, "app_secret": _TIKTOK.app_secret,
                 "refresh_token": _TIKTOK.refresh_token},
        secret_name="app_secret",
        shop_extra={"region": _TIKTOK.region},
        operations=("searchOrders", "getOrderDetail", "getAuthorizedShops", "updateInventory",
                    "markPackageAsShipped", "refreshToken"),
        # Not published: a tight bucket so the time-scaled limit test really bites.
        platform_limits={"searchOrders": RateLimit(0.01, 2), "getOrderDetail": RateLimit(0.01, 2)},
        malformations=tiktok_shapes.MALFORMATIONS,
    ),
    "shein": Harness(
        platform="shein",
        make_emulator=lambda **kw: SheinEmulator((SHEIN_DEMO_SHOPS[0],), **kw),
        secrets={"app_id": SHEIN_DEMO_SHOPS[0].app_id, "app_secret": SHEIN_DEMO_SHOPS[0].app_secret,
                 "open_key_id": SHEIN_DEMO_SHOPS[0].open_key_id, "secret_key": SHEIN_DEMO_SHOPS[0].secret_key},
        secret_name="open_key_id",  # a corrupted secret_key or app_secret fails to decrypt before any call
        shop_extra={"region": "US"},
        operations=("orderList", "orderDetail", "exportAddress", "changeInventory", "stockQuery",
                    "warehouseList", "expressChannel", "importExpress", "getByToken"),
        # Not published: tight buckets so the time-scaled limit test really bites.
        platform_limits={"orderList": RateLimit(0.01, 2), "orderDetail": RateLimit(0.01, 2),
                         "exportAddress": RateLimit(0.02, 10)},
        malformations=shein_shapes.MALFORMATIONS,
    ),
    "temu": Harness(
        platform="temu",
        # Every call (list, address, money: three per order) draws on TEMU's one app bucket, so on a frozen
        # clock the "unlimited" bucket needs a burst that covers a full re-read of 5,000 orders.
        make_emulator=lambda rate_limits, **kw: TemuEmulator((TEMU_DEMO_SHOPS[0],), rate_limits={
            **rate_limits, "router": RateLimit(rate_limits["router"].rate, 100_000)
            if rate_limits["router"].rate >= UNLIMITED else rate_limits["router"]}, **kw),
        secrets={"app_key": TEMU_DEMO_SHOPS[0].app_key, "app_secret": TEMU_DEMO_SHOPS[0].app_secret,
                 "access_token": TEMU_DEMO_SHOPS[0].access_token},
        secret_name="app_secret",
        shop_extra={"region": TEMU_DEMO_SHOPS[0].host},
        operations=("router", "bg.order.list.v2.get", "bg.order.detail.v2.get", "bg.order.shippinginfo.v2.get",
                    "bg.order.amount.query", "bg.local.goods.stock.edit", "bg.local.goods.sku.list.query",
                    "bg.logistics.companies.get", "bg.logistics.warehouse.list.get",
                    "bg.logistics.shipment.v2.confirm"),
        # Published: 20 QPS per app_key across every API type, one bucket ("router") on both sides.
        platform_limits={"router": RateLimit(20, 20)},
        malformations=temu_shapes.MALFORMATIONS,
    ),
    "aliexpress": Harness(
        platform="aliexpress",
        make_emulator=lambda **kw: AliExpressEmulator((ALIEXPRESS_DEMO_ACCOUNTS[0],), **kw),
        secrets={"app_key": ALIEXPRESS_DEMO_ACCOUNTS[0].app_key, "app_secret": ALIEXPRESS_DEMO_ACCOUNTS[0].app_secret,
                 "access_token": ALIEXPRESS_DEMO_ACCOUNTS[0].access_token},
        secret_name="app_secret",
        shop_extra={"region": "US"},
        operations=("aliexpress.solution.order.get", "aliexpress.solution.order.info.get",
                    "aliexpress.solution.order.receiptinfo.get",
                    "aliexpress.solution.batch.product.inventory.update", "aliexpress.solution.order.fulfill"),
        # Not published: tight buckets so the time-scaled limit test really bites.
        platform_limits={"aliexpress.solution.order.get": RateLimit(0.01, 2),
                         "aliexpress.solution.order.receiptinfo.get": RateLimit(0.5, 30)},
        malformations=aliexpress_shapes.MALFORMATIONS,
    ),
}

for _plugin in entry_points(group="orderhub.contract_harnesses"):
    assert _plugin.name not in HARNESSES, f"a second contract harness for {_plugin.name}: {_plugin.value}"
    HARNESSES[_plugin.name] = _plugin.load()()
