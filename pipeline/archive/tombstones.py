"""Tombstones: what Redis keeps of an order moved to the archive, so that a listing of it again is
recognised by the upsert script itself (pipeline/store_scripts.py) and never stored, routed or sent again.

They are bucketed: one hash per shop and UTC day the orders were PLACED (keys.tombstones), field = the
order's external id, value = 12 bytes, the head of its payload hash (HASH_HEAD bytes, `hash_head`) and
the time it was archived (4-byte big-endian Unix seconds, for `orderhub order show`). The whole hash
expires at once, `tombstone days + 1` after its placed day began, since Redis 7.0 has no expiry per
field. A key per order with its own expiry cost ~200 B of memory; a field in a shared hash costs ~75 B
(the hash's entry, its field and its value, each rounded up by the allocator: why the value is kept to
12 bytes and the field is the external id, not the longer order key).

The window is counted from the placed day rather than from the move, which is what
pipeline/archive/relisted.py `screen` already assumes: it asks the archive about every order placed
before now - window that Redis does not hold, and each order placed since has a live bucket (it lives
until placed day + window + 1 day, later than placed time + window). So an order whose bucket would
already have expired gets no tombstone at all (`leave` writes nothing): the archive answers for it.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime, time, timedelta

import redis

from pipeline import keys
from pipeline.model import Order
from pipeline.store_scripts import HASH_HEAD, hash_head

_TIME = struct.Struct(">I")
"""Archive time in a tombstone: unsigned 32-bit seconds, enough until 2106."""


def tombstone_value(payload_hash: str, archived_at: datetime) -> bytes:
    """What a tombstone holds: the head of the archived payload hash and when it was archived."""
    return hash_head(payload_hash) + _TIME.pack(int(archived_at.timestamp()))


def tombstone_time(value: bytes | None) -> datetime | None:
    """When the order of a tombstone was archived (the inverse of `tombstone_value`), or None when the
    value cannot be read."""
    if value is None or len(value) != HASH_HEAD + _TIME.size:
        return None
    (seconds,) = _TIME.unpack_from(value, HASH_HEAD)
    return datetime.fromtimestamp(seconds, UTC)


def bucket(prefix: str, seller: str, platform: str, shop_id: str, placed_at: datetime) -> str:
    """The tombstone hash of the orders of a shop placed on `placed_at`'s UTC day."""
    return keys.tombstones(prefix, seller, platform, shop_id, placed_at.astimezone(UTC).date())


def expires_at(placed_at: datetime, window: timedelta) -> datetime:
    """When the bucket of an order placed at `placed_at` expires: the window after the end of its day."""
    day = datetime.combine(placed_at.astimezone(UTC).date(), time(), UTC)
    return day + window + timedelta(days=1)


def leave(pipe: redis.client.Pipeline, prefix: str, seller: str, *, platform: str, shop_id: str,
          external_id: str, placed_at: datetime, payload_hash: str, archived_at: datetime, window: timedelta,
          now: datetime, replace: bool = True) -> bool:
    """Queue on `pipe` the tombstone of an archived order and its bucket's expiry; nothing (False) when
    the bucket would already have expired. `replace=False` keeps a tombstone already there."""
    expiry = expires_at(placed_at, window)
    if expiry <= now:
        return False
    key = bucket(prefix, seller, platform, shop_id, placed_at)
    value = tombstone_value(payload_hash, archived_at)
    if replace:
        pipe.hset(key, external_id, value)
    else:
        pipe.hsetnx(key, external_id, value)
    pipe.expireat(key, expiry)  # the same moment for every field of the bucket
    return True


def leave_order(pipe: redis.client.Pipeline, prefix: str, seller: str, order: Order, payload_hash: str, *,
                window: timedelta, now: datetime, replace: bool = True) -> bool:
    """`leave` for an order listed again and found archived, under `payload_hash`, archived `now` as far
    as Redis is told (pipeline/archive/relisted.py)."""
    return leave(pipe, prefix, seller, platform=order.platform, shop_id=order.shop_id, external_id=order.external_id,
                 placed_at=order.placed_at, payload_hash=payload_hash, archived_at=now, window=window, now=now,
                 replace=replace)


def find(client: redis.Redis, prefix: str, seller: str, *, platform: str, shop_id: str, external_id: str,
         placed_at: datetime) -> bytes | None:
    """The tombstone of an archived order, or None (never archived, or its bucket expired)."""
    return client.hget(bucket(prefix, seller, platform, shop_id, placed_at), external_id)
