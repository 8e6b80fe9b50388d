from __future__ import annotations

import msgspec

from config.schema import RoutingConfig, SellerConfig, SkuMapConfig, WarehouseConfig
from pipeline.model import Address, Order, OrderLine
from tests.factories import make_order

US = Address(country="US", name="Ann Example", line1="1 Main St", city="Austin", region="TX", postal_code="78701",
             pii_complete=True)
JP = Address(country="JP", name="Sato Yui", line1="1-1 Umeda", city="Osaka", region="Osaka", postal_code="530-0001",
             pii_complete=True)


def seller(*, split: bool = False, skus: dict[str, str] | None = None, default: str = "identity",
           warehouses: list[WarehouseConfig] | None = None) -> SellerConfig:
    return SellerConfig(
        seller="acme",
        warehouses=warehouses if warehouses is not None else [
            WarehouseConfig(id="east", kind="fourpx", credentials={}, countries=["US", "CA"], priority=1, cost_hint=1.0),
            WarehouseConfig(id="west", kind="shipbob", credentials={}, countries=["US"], priority=2, cost_hint=0.5,
                            capabilities=["oversize"]),
            WarehouseConfig(id="osaka", kind="fourpx", credentials={}, countries=["JP"], priority=1),
        ],
        routing=RoutingConfig(allow_split=split),
        sku_map=SkuMapConfig(default=default, skus=skus or {}),
    )


def order(n: int, lines: list[tuple[str, int]], address: Address | None = US, **kw) -> Order:
    base = make_order(n, **kw)
    return msgspec.structs.replace(base, ship_to=address, lines=tuple(
        OrderLine(line_ids=(f"{n}-{i}",), platform_sku=sku, seller_sku=sku, quantity=qty)
        for i, (sku, qty) in enumerate(lines)))
