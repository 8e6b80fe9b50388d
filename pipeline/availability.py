"""Available-to-sell: how many units of a seller SKU one platform shop may show. Pure.

The number starts from what the warehouses serving the shop's buyers can still promise (on hand,
minus units shipped since their last report or too close to it to tell, minus units reserved by
routed orders), keeps a safety buffer back, offers the channel its share, caps it, and shows 0 below the channel's
minimum. Every step is kept in the result, so `orderhub stock show` can explain a number.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import msgspec

from config.schema import SellerConfig, ShopConfig


class Availability(msgspec.Struct, frozen=True, kw_only=True):
    seller_sku: str
    shop_id: str
    per_warehouse: dict[str, int]  # available units in each warehouse serving this shop
    passed_over: tuple[str, ...]  # warehouses that do not serve the shop's countries
    pool: int
    buffer: int
    share: float
    max_shown: int | None
    min_shown: int
    quantity: int

    def explain(self) -> str:
        parts = " + ".join(f"{wh} {n}" for wh, n in sorted(self.per_warehouse.items())) or "no warehouse"
        text = f"({parts}) = {self.pool}, - buffer {self.buffer}, x share {self.share:g}"
        if self.max_shown is not None:
            text += f", max {self.max_shown}"
        if self.min_shown:
            text += f", 0 below {self.min_shown}"
        return f"{text} -> {self.quantity}"


def serving_warehouses(seller: SellerConfig, shop: ShopConfig) -> tuple[list[str], list[str]]:
    """Enabled warehouses that ship to any of the shop's countries, and the ones passed over."""
    serving, passed = [], []
    for wh in seller.warehouses:
        if not wh.enabled:
            continue
        if not shop.countries or set(shop.countries) & set(wh.countries):
            serving.append(wh.id)
        else:
            passed.append(wh.id)
    return serving, passed


def available_to_sell(seller: SellerConfig, shop: ShopConfig, seller_sku: str,
                      available: Mapping[tuple[str, str], int]) -> Availability:
    """`available` maps (warehouse, seller SKU) to what the ledger can still promise."""
    serving, passed = serving_warehouses(seller, shop)
    per_warehouse = {wh: max(0, available.get((wh, seller_sku), 0)) for wh in serving}
    pool = sum(per_warehouse.values())
    channel = seller.stock.channel(shop.platform, shop.shop_id)
    buffer = seller.stock.safety_buffer if channel.safety_buffer is None else channel.safety_buffer
    quantity = math.floor(max(0, pool - buffer) * channel.share)
    if channel.max_shown is not None:
        quantity = min(quantity, channel.max_shown)
    if quantity < channel.min_shown:
        quantity = 0
    return Availability(seller_sku=seller_sku, shop_id=shop.shop_id, per_warehouse=per_warehouse,
                        passed_over=tuple(passed), pool=pool, buffer=buffer, share=channel.share,
                        max_shown=channel.max_shown, min_shown=channel.min_shown, quantity=max(0, quantity))
