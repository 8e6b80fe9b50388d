"""A benchmark's scratch space on the shared Redis: a key prefix of its own, deleted afterwards,
so benchmarks can run beside tests and each other without flushing anything."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis


@contextmanager
def scratch_redis(url: str | None = None) -> Iterator[tuple[redis.Redis, str]]:
    """(client, prefix) on `url` or $REDIS_URL or the local server; every key under the prefix goes at exit."""
    client = redis.Redis.from_url(url or os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        yield client, prefix
    finally:
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)
