"""Stock pushes a platform refused, per listing: what it answered, and when the same number may go again.

A platform that refuses a number (an unknown SKU, a listing under review) refuses the same number a
minute later too, so the same number to the same listing waits out a backoff (60 s, doubling per
attempt, at most an hour); a new number or a new listing id goes out at once, and an accepted push
clears the record. Its own module rather than part of stock_sync.py: the sync, `orderhub stock show`
and the metrics exporter all read the record, and with it stock_sync.py would pass 300 lines.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

import msgspec
import redis

from pipeline import keys
from pipeline.ports import PushOutcome, StockPush

FIRST_BACKOFF = timedelta(seconds=60)
MAX_BACKOFF = timedelta(hours=1)
MESSAGE_CHARS = 500  # a platform's message is kept for people to read, not whole documents
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,39}")


class Refusal(msgspec.Struct, frozen=True, kw_only=True):
    """The platform's last answer to a refused push of one listing."""

    platform: str
    quantity: int  # the number refused
    listing_id: str | None
    code: str  # a short, stable reason: the platform's error code, else one of ours ("refused", "no_answer")
    message: str  # the platform's own words
    refused_at: datetime
    attempts: int  # refusals of this same number to this same listing in a row
    retry_at: datetime  # the same number is not pushed again before this

    def same_push(self, push: StockPush) -> bool:
        return self.quantity == push.quantity and self.listing_id == push.listing_id

    def waiting(self, push: StockPush, now: datetime) -> bool:
        """Whether `push` is the number already refused, and its backoff has not passed yet."""
        return self.same_push(push) and now < self.retry_at

    def explain(self, push: StockPush, now: datetime) -> list[str]:
        """For `orderhub stock show`: why the platform refused, what and when, and when `push` (the
        number wanted now) goes."""
        listing = f" under listing {self.listing_id}" if self.listing_id else ""
        if not self.same_push(push):
            after = "the number or listing id has changed since: pushed at the next sync"
        elif now < self.retry_at:
            after = f"next try after {self.retry_at:%Y-%m-%d %H:%M:%S}Z, or at once when the number changes"
        else:
            after = "next try at the next sync"
        return [f"refused ({self.code}): {self.message or '(no message)'}",
                f"{self.quantity}{listing} refused at {self.refused_at:%Y-%m-%d %H:%M:%S}Z, "
                f"attempt {self.attempts}; {after}"]


def refused_key(prefix: str, seller: str, shop_id: str) -> str:
    """A hash of one shop's refused listings, platform SKU -> Refusal JSON (beside `pushed_key`)."""
    return keys.stock_refused(prefix, seller, shop_id)


def refusing_shops_key(prefix: str) -> str:
    """The set of `refused_key` hashes that ever held a refusal, so the exporter reads those and no others.
    A member whose hash has emptied stays: it costs one empty read, and there is one per shop at most."""
    return keys.stock_refusing_shops(prefix)


def backoff(attempts: int) -> timedelta:
    """How long the same number waits after its `attempts`-th refusal in a row."""
    return min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** min(max(attempts - 1, 0), 16))


def reason_code(outcome: PushOutcome | None) -> str:
    """A label-safe reason: the platform's own error code when it gave a short one."""
    if outcome is None:
        return "no_answer"
    code = outcome.code.strip()
    return code if _CODE.fullmatch(code) else "refused"


def read_refusals(client: redis.Redis, prefix: str, seller: str, shop_id: str,
                  skus: list[str] | None = None) -> dict[str, Refusal]:
    """The shop's refusals: all of them, or those of `skus`."""
    key = refused_key(prefix, seller, shop_id)
    if skus is None:
        raw = {k.decode(): v for k, v in client.hgetall(key).items()}
    elif skus:
        raw = dict(zip(skus, client.hmget(key, skus), strict=True))
    else:
        raw = {}
    return {sku: msgspec.json.decode(v, type=Refusal) for sku, v in raw.items() if v is not None}


def record_refusals(client: redis.Redis, prefix: str, seller: str, shop_id: str, platform: str,
                    refused: Mapping[str, tuple[StockPush, PushOutcome | None]],
                    previous: Mapping[str, Refusal], now: datetime) -> list[str]:
    """Keep what the platform answered to each refused push; returns the platform SKUs refused anew
    (first refusal of this number to this listing): a repeat only counts another attempt."""
    records, new = {}, []
    for sku, (push, outcome) in refused.items():
        last = previous.get(sku)
        attempts = last.attempts + 1 if last is not None and last.same_push(push) else 1
        if attempts == 1:
            new.append(sku)
        message = outcome.message if outcome is not None else "the platform's answer did not name this SKU"
        records[sku] = msgspec.json.encode(Refusal(
            platform=platform, quantity=push.quantity, listing_id=push.listing_id, code=reason_code(outcome),
            message=message[:MESSAGE_CHARS], refused_at=now, attempts=attempts, retry_at=now + backoff(attempts)))
    if records:
        key = refused_key(prefix, seller, shop_id)
        client.pipeline().hset(key, mapping=records).sadd(refusing_shops_key(prefix), key).execute()
    return sorted(new)


def clear_refusals(client: redis.Redis, prefix: str, seller: str, shop_id: str, skus: Iterable[str]) -> None:
    """Forget the refusals of listings the platform now shows the right number for (or that are gone)."""
    skus = list(skus)
    if skus:
        client.hdel(refused_key(prefix, seller, shop_id), *skus)


def refused_counts(client: redis.Redis, prefix: str) -> Counter[tuple[str, str]]:
    """Listings whose last push was refused, by (platform, reason code), over every shop."""
    counts: Counter[tuple[str, str]] = Counter()
    keys = sorted(client.smembers(refusing_shops_key(prefix)))
    if not keys:
        return counts
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.hvals(key)
    for values in pipe.execute():
        for value in values:
            refusal = msgspec.json.decode(value, type=Refusal)
            counts[(refusal.platform, refusal.code)] += 1
    return counts
