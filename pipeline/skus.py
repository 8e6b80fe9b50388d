"""Platform SKUs to the seller's SKUs (what the warehouses know), through the seller's SKU map."""

from __future__ import annotations

import msgspec

from config.schema import SkuMapConfig
from pipeline.errors import UnknownSku
from pipeline.model import Order


def map_skus(order: Order, sku_map: SkuMapConfig) -> Order:
    """The order with `seller_sku` filled on every line, or UnknownSku naming every unmapped one."""
    lines, unknown = [], []
    for i, line in enumerate(order.lines):
        seller_sku = sku_map.seller_sku(order.platform, line.platform_sku, line.seller_sku)
        if seller_sku is None:
            unknown.append((i, line.platform_sku))
            continue
        lines.append(msgspec.structs.replace(line, seller_sku=seller_sku))
    if unknown:
        path = f"lines[{unknown[0][0]}].platform_sku"
        names = ", ".join(sku for _, sku in unknown)
        raise UnknownSku(path, f"{order.platform} SKU {names} not in the seller's SKU map")
    return msgspec.structs.replace(order, lines=tuple(lines))
