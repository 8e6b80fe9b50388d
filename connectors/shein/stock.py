"""SHEIN stock: absolute levels pushed with change-inventory, read back with stock-query.

Apart from the client because it is the one part that batches and reads answers SKU by SKU; it makes
its calls through the client's signed `call`, so signing, limits and classification stay there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pipeline.ports import PushOutcome, StockPush

STOCK_BATCH = 100  # change-inventory maximum

Call = Callable[..., Any]
"""The client's signed call: `call(operation, path, body)` returns the answer's `info`."""


def push_stock(call: Call, warehouse: str, pushes: Sequence[StockPush]) -> list[PushOutcome]:
    """Absolute `saleInventory` in batches of 100.

    Absolute, not `changeInventoryQuantity`: a delta applied twice (a retry after a lost reply)
    or computed from a stale read drifts for good, while re-sending an absolute level is harmless.
    The SHEIN skuCode is `listing_id` when the SKU map gives one, else the platform SKU itself.
    """
    outcomes = []
    for i in range(0, len(pushes), STOCK_BATCH):
        batch = pushes[i:i + STOCK_BATCH]
        codes = [p.listing_id or p.platform_sku for p in batch]
        info = call("changeInventory", "/open-api/gsp/goods/change-inventory", {
            "updateSkuInventoryQuantityRequests": [
                {"skuCode": code, "warehouseCode": warehouse, "saleInventory": max(0, p.quantity)}
                for code, p in zip(codes, batch, strict=True)]}) or {}
        outcomes += _outcomes(codes, batch, info)
    return outcomes


def _outcomes(codes: list[str], batch: Sequence[StockPush], info: dict[str, Any]) -> list[PushOutcome]:
    """One outcome per push, from the answer's successList and failedList (by skuCode)."""
    succeeded = {str(s.get("skuCode")) for s in info.get("successList") or []}
    failed = {str(f.get("skuCode")): f for f in info.get("failedList") or []}
    outcomes = []
    for code, push in zip(codes, batch, strict=True):
        if code in failed:
            why = failed[code]
            message = f"{why.get('code', '')} {why.get('reason', '')}".strip()
            outcomes.append(PushOutcome(push.platform_sku, False, message, str(why.get("code") or "")))
        elif code in succeeded:
            outcomes.append(PushOutcome(push.platform_sku, True))
        else:
            outcomes.append(PushOutcome(push.platform_sku, False, "not in SHEIN's reply", "not_in_reply"))
    return outcomes


def stock_levels(call: Call, warehouse: str, platform_skus: Sequence[str]) -> dict[str, int]:
    """What SHEIN shows (usable units in our warehouse) per skuCode, read 100 at a time with
    stock-query; the drift check compares it with what we last pushed."""
    shown: dict[str, int] = {}
    for i in range(0, len(platform_skus), STOCK_BATCH):
        info = call("stockQuery", "/open-api/stock/stock-query",
                    {"skuCodeList": list(platform_skus[i:i + STOCK_BATCH]), "warehouseType": "2"}) or []
        for group in info:
            for goods in group.get("goodsInventory") or []:
                for sku in goods.get("skuList") or []:
                    units = sum(int(w.get("usableInventory") or 0) for w in sku.get("warehouseInventoryList") or []
                                if str(w.get("warehouseCode")) == warehouse)
                    shown[str(sku.get("skuCode"))] = units
    return shown
