"""TEMU stock: absolute per-goodsId edits with bg.local.goods.stock.edit, answered SKU by SKU.

Apart from the client because it is the one part that groups pushes and reads answers per SKU; it
makes its calls through the client's signed `call`, so signing, the app's budget and classification
stay there.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from connectors.listings import by_listing
from pipeline.errors import NeedsReview
from pipeline.ports import PushOutcome, StockPush

MAX_STOCK = 1_000_000  # bg.local.goods.stock.edit 150013002: "Quantity must be between 0 and 1000000"

Call = Callable[..., Any]
"""The client's signed router call: `call(api_type, **business)` returns the answer's `result`."""


def push_stock(call: Call, shop_id: str, pushes: Sequence[StockPush]) -> list[PushOutcome]:
    """One absolute edit (`skuStockTargetList`) per goodsId, with a requestUniqueKey fixed for this call.

    Absolute, not TEMU's delta form (`skuStockChangeList`): a lost answer or a second worker cannot
    make an absolute edit count twice. The transport's quick retries resend the same key, so an edit
    whose answer was lost is not applied again at TEMU. The key also carries a per-call nonce: a key
    from the content alone would turn the second of "12, then 5, then 12" into a no-op. TEMU answers
    per SKU (`skuStockEditStatusInfoList`); a SKU it did not edit is refused with its own code."""
    by_goods, outcomes = by_listing(pushes, "no TEMU goodsId in the SKU map")
    nonce = uuid.uuid4().hex
    for goods_id, group in by_goods.items():
        targets = [{"skuId": p.platform_sku, "stockTarget": min(max(0, p.quantity), MAX_STOCK)} for p in group]
        key = hashlib.sha256(json.dumps([shop_id, goods_id, targets, nonce]).encode()).hexdigest()[:32]
        try:
            result = call("bg.local.goods.stock.edit", goodsId=goods_id, stockType=0,
                          skuStockTargetList=targets, requestUniqueKey=key)
        except NeedsReview as refused:
            outcomes.extend(PushOutcome(p.platform_sku, False, str(refused), refused.code) for p in group)
        else:
            failed = _failed_skus(result)
            outcomes.extend(PushOutcome(p.platform_sku, False, *failed[p.platform_sku])
                            if p.platform_sku in failed else PushOutcome(p.platform_sku, True) for p in group)
    return outcomes


def _failed_skus(result: Any) -> dict[str, tuple[str, str]]:
    """skuId -> (message, code) for each SKU a successful stock edit answer says was not edited."""
    rows = result.get("skuStockEditStatusInfoList") if isinstance(result, dict) else None
    return {str(row.get("skuId")): (str(row.get("errorMsg") or "stock not edited"), str(row.get("errorCode") or ""))
            for row in rows or [] if isinstance(row, dict) and row.get("stockEditStatus") is False}
