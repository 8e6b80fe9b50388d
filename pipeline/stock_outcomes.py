"""What a stock push (one call per listing, or a feed) did, written down once for both paths: the numbers
the platform accepted go into the shop's pushed hash, its refusals into pipeline/stock_refusals.py, and
a run's counts into its StockReport."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import msgspec
import redis

from config.schema import ShopConfig
from pipeline import keys
from pipeline.ports import PushOutcome, StockPush
from pipeline.stock_refusals import Refusal, clear_refusals, record_refusals


class StockReport(msgspec.Struct, kw_only=True):
    shop_id: str
    listings: int = 0
    pushed: int = 0
    refused: dict[str, str] = {}  # platform SKU -> the platform's message
    newly_refused: list[str] = []  # of those, the ones refused for the first time at this number
    waiting: int = 0  # changed listings not pushed: this number was refused and its backoff runs
    in_feeds: int = 0  # changed listings not pushed: a feed that carries them has no outcome yet
    feeds: int = 0  # feeds submitted by this run
    feeds_open: int = 0  # feeds of the shop still without an outcome when the run ended


def pushed_key(prefix: str, seller: str, shop_id: str) -> str:
    """What each of the shop's listings was last told (keys.stock_pushed)."""
    return keys.stock_pushed(prefix, seller, shop_id)


def record_outcomes(seller: str, shop: ShopConfig, client: redis.Redis, prefix: str, batch: list[StockPush],
                     outcomes: Mapping[str, PushOutcome], refusals: Mapping[str, Refusal], report: StockReport,
                     now: datetime, *, forget_refused: bool = False) -> None:
    """What the platform accepted goes into the pushed hash (its refusal cleared); what it refused is
    recorded. `forget_refused`: the refused listings' last pushed number is forgotten too (a feed that did
    not clearly accept a listing may still have changed it), so they are pushed again."""
    accepted: dict[str, int] = {}
    refused: dict[str, tuple[StockPush, PushOutcome | None]] = {}
    for push in batch:
        outcome = outcomes.get(push.platform_sku)
        if outcome is not None and outcome.accepted:
            accepted[push.platform_sku] = push.quantity
        else:
            refused[push.platform_sku] = (push, outcome)
            report.refused[push.platform_sku] = outcome.message if outcome is not None else "no answer"
    pushed = pushed_key(prefix, seller, shop.shop_id)
    if accepted:
        client.hset(pushed, mapping=accepted)
        clear_refusals(client, prefix, seller, shop.shop_id, [sku for sku in accepted if sku in refusals])
    if refused and forget_refused:
        client.hdel(pushed, *refused)
    report.newly_refused += record_refusals(client, prefix, seller, shop.shop_id, shop.platform,
                                            refused, refusals, now)
    report.pushed += len(accepted)
