"""What a verified webhook push must also pass before anything is enqueued: freshness, binding, order ids,
replay memory and fetch coalescing.

A valid signature proves the platform sent the bytes, not that they are new, nor that they concern the
shop whose URL they were posted to: one app key and secret serve every shop of the 3PL, so seller A's
genuine push verifies at seller B's URL too, and a captured push verifies for ever. So, in this order:
the signed time must be within ±5 minutes of now; a push naming a platform shop must name the URL shop's
(`options.platform_shop_id`); every order id must look like one; a push already enqueued in the last
10 minutes is answered 200 again without a fetch (the memory outlasts the freshness window on both
sides, so a replay is either stale or remembered); and one order's fetches within 5 seconds are one.
The push is remembered only after its fetches were enqueued, so a failed enqueue (the ingress answers
503) leaves the platform's retry a fresh push. Platform facts: docs/platforms/*.md, "Webhooks";
the reasoning: docs/security.md, "Replay and binding".
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import redis

from config.schema import ShopConfig
from pipeline import keys
from pipeline.ports import VerifiedPush

FRESHNESS = timedelta(minutes=5)
REPLAY_SECONDS = 600  # > 2 × FRESHNESS: a push signed 5 min ahead stays fresh until 10 min from now
COALESCE_SECONDS = 5
ORDER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
DIGITS = re.compile(r"[0-9]{1,20}")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MS_THRESHOLD = 10**11  # as seconds: the year 5138; as milliseconds: 1973


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str


@dataclass(frozen=True)
class Admission:
    """What became of a push that passed the checks."""

    replayed: bool  # seen before: answered without a fetch
    enqueued: int = 0
    coalesced: int = 0  # orders whose fetch another push enqueued within COALESCE_SECONDS


def signed_time(value: object, unit: Literal["s", "ms", "auto"]) -> datetime:
    """An epoch number (int or digits) in `unit` as aware UTC; "auto" reads values above MS_THRESHOLD as
    milliseconds. Anything unreadable (missing, not a number, out of range) is EPOCH, refused as stale:
    a platform that signs a time must send one."""
    if isinstance(value, str) and DIGITS.fullmatch(value.strip()):
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return EPOCH
    scale = 1000 if unit == "ms" or (unit == "auto" and value > MS_THRESHOLD) else 1
    try:
        return datetime.fromtimestamp(value / scale, UTC)
    except (OverflowError, ValueError, OSError):
        return EPOCH


def refusal(push: VerifiedPush, platform_shop_id: str | None, now: datetime) -> Refusal | None:
    """Why a verified push is refused with nothing enqueued, or None; `platform_shop_id` is the URL shop's
    `options.platform_shop_id`."""
    if push.signed_at is not None and abs(now - push.signed_at) > FRESHNESS:
        return Refusal(401, "signed time outside ±5 min")
    if push.account is not None and not platform_shop_id:
        return Refusal(401, "the shop sets no options.platform_shop_id to bind the push to")
    if push.account is not None and push.account != platform_shop_id:
        return Refusal(401, "the push names another platform shop")
    if not all(isinstance(i, str) and ORDER_ID.fullmatch(i) for i in push.order_ids):
        return Refusal(400, "order id not 1-64 letters, digits, '_' or '-'")
    return None


def webhook_binding_problems(shop: ShopConfig, names_account: bool) -> list[str]:
    """Config check: a webhook-enabled shop of a platform whose pushes name their shop (`names_account` of
    its receiver) needs `options.platform_shop_id`, else every push to it is refused."""
    if shop.webhook and names_account and not shop.options.get("platform_shop_id", "").strip():
        return [f"webhook = true needs options.platform_shop_id, the {shop.platform} shop id its pushes name "
                "(without it every push is refused 401)"]
    return []


class PushMemory:
    """One shop's replay memory and fetch coalescing in Redis; every call may raise a Redis error."""

    def __init__(self, client: redis.Redis, prefix: str, seller: str, shop_id: str) -> None:
        self.client, self.prefix, self.seller, self.shop_id = client, prefix, seller, shop_id

    def _seen_key(self, push_id: str) -> str:
        digest = hashlib.sha256(push_id.encode("utf-8", "replace")).hexdigest()
        return keys.webhook_seen(self.prefix, self.seller, self.shop_id, digest)

    def _fetch_key(self, external_id: str) -> str:
        return keys.webhook_fetch(self.prefix, self.seller, self.shop_id, external_id)

    def seen(self, push_id: str) -> bool:
        return bool(self.client.exists(self._seen_key(push_id)))

    def remember(self, push_id: str) -> None:
        self.client.set(self._seen_key(push_id), 1, ex=REPLAY_SECONDS)

    def claim_fetch(self, external_id: str) -> bool:
        """True when no fetch of the order was enqueued by a push in the last COALESCE_SECONDS."""
        return bool(self.client.set(self._fetch_key(external_id), 1, nx=True, ex=COALESCE_SECONDS))

    def release_fetch(self, external_id: str) -> None:
        self.client.delete(self._fetch_key(external_id))


def admit(memory: PushMemory, push: VerifiedPush, enqueue: Callable[[str], None]) -> Admission:
    """Enqueue a checked push's fetches unless it was seen or another push just asked for them, then
    remember it. An enqueue that raises releases its claim and propagates, the push not remembered."""
    if memory.seen(push.push_id):
        return Admission(replayed=True)
    enqueued = coalesced = 0
    for external_id in dict.fromkeys(push.order_ids):
        if not memory.claim_fetch(external_id):
            coalesced += 1
            continue
        try:
            enqueue(external_id)
        except BaseException:
            with suppress(redis.RedisError):  # else it expires in COALESCE_SECONDS anyway
                memory.release_fetch(external_id)
            raise
        enqueued += 1
    memory.remember(push.push_id)
    return Admission(replayed=False, enqueued=enqueued, coalesced=coalesced)
