"""Which Redis Orderhub talks to: `REDIS_URL` when set, else an embedded one that needs no install.

This module is the one place that reads `REDIS_URL` and hands out clients: `get_redis` gives one pooled
client per URL per process, of the current master after a Sentinel failover too. Reading the URL lives in
`redis_urls` and the embedded server in `embedded_redis`; the names other code imports from here are
re-exported, so callers keep one import.
"""

from __future__ import annotations

import os
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelManagedConnection

from orderhub.runtime.embedded_redis import PRIVATE_FILE as PRIVATE_FILE
from orderhub.runtime.embedded_redis import data_dir, ensure_embedded
from orderhub.runtime.embedded_redis import seal as seal
from orderhub.runtime.embedded_redis import stop_embedded as stop_embedded
from orderhub.runtime.redis_urls import (
    SENTINEL_TIMEOUT,
    SentinelURL,
    _sentinel_kwargs,
    describe,
    is_sentinel,
    parse_sentinel,
)
from orderhub.runtime.redis_urls import RedisURLError as RedisURLError
from orderhub.runtime.redis_urls import broker_transport_options as broker_transport_options
from orderhub.runtime.redis_urls import celery_url as celery_url


def redis_url() -> str:
    """`REDIS_URL`, or the embedded server's URL (starting it when needed)."""
    return os.environ.get("REDIS_URL") or ensure_embedded()


def configured_url() -> str:
    """The URL `redis_url` names, without starting anything (for saying which Redis could not be reached)."""
    return os.environ.get("REDIS_URL") or f"unix://{data_dir() / 'redis.sock'}"



_clients: dict[tuple[str, float | None], redis.Redis] = {}


_generation = 0


def abandon_connections() -> None:
    """Make every pooled connection of this process reconnect before its next command.

    For a task interrupted by its soft time limit: the exception can land after a command was sent
    and before its reply was read (redis-py drops the connection only when the read itself fails),
    and the next command on that connection then reads the reply owed to the last one. In the
    100,000-order chaos run that gave a cursor read "1401.55..." and a rate-limit wait of 17,452 s."""
    global _generation
    _generation += 1


class _Fresh:
    """A connection that reconnects once after `abandon_connections`."""

    _seen = 0

    def send_packed_command(self, command, check_health=True):  # type: ignore[no-untyped-def]
        if self._seen != _generation:
            self.disconnect()  # type: ignore[attr-defined]
            self._seen = _generation
        super().send_packed_command(command, check_health)  # type: ignore[misc]


class _TCP(_Fresh, redis.Connection):
    pass


class _Unix(_Fresh, redis.UnixDomainSocketConnection):
    pass


class _SentinelTCP(_Fresh, SentinelManagedConnection):
    """Asks the sentinels for the master's address on each (re)connect."""


def _sentinel_master(target: SentinelURL, timeout: float | None) -> redis.Redis:
    """A client of the master `target` names. Its pool (redis-py's SentinelConnectionPool) asks the
    sentinels where the master is at each new connection; a connection that meets a dead master fails with
    ConnectionError and one that meets a demoted one (ReadOnlyError, or its blocked commands unblocked) is
    dropped as a ConnectionError too, so the next command reconnects to whichever master the sentinels name
    by then. Lua scripts need nothing more: a new master without one in its cache answers NOSCRIPT and
    redis-py loads it again.

    With `timeout` (the CLI), the sentinels share it, so finding the master fails within about `timeout`."""
    wait = SENTINEL_TIMEOUT if timeout is None else min(SENTINEL_TIMEOUT, timeout / len(target.sentinels))
    options: dict[str, Any] = {"connection_class": _SentinelTCP, "socket_keepalive": True,
                               "health_check_interval": 25, "db": target.db, "username": target.username,
                               "password": target.password}
    if timeout is not None:
        options.update(socket_connect_timeout=timeout, socket_timeout=timeout, retry=Retry(NoBackoff(), 0))
    sentinel = Sentinel(list(target.sentinels), sentinel_kwargs=_sentinel_kwargs(target, wait))
    return sentinel.master_for(target.master_name, **options)


def get_redis(url: str | None = None, *, timeout: float | None = None) -> redis.Redis:
    """One pooled client per URL (and timeout) per process; logs once which Redis is in use.

    `timeout` (seconds) bounds connecting and each reply, with no retry: for callers that must fail fast
    and say so (the CLI). Workers keep redis-py's defaults and retries. A `sentinel://` URL gives a client
    of the current master that follows a failover (`_sentinel_master`)."""
    url = url or redis_url()
    client = _clients.get((url, timeout))
    if client is None:
        from orderhub.runtime.logs import get_logger

        if is_sentinel(url):
            client = _sentinel_master(parse_sentinel(url), timeout)
        else:
            if url.startswith("unix://"):
                options: dict = {"connection_class": _Unix}
            elif url.startswith("redis://"):
                options = {"connection_class": _TCP, "socket_keepalive": True}
            else:  # TLS and the rest: redis-py's own connection class
                options = {"socket_keepalive": True}
            if timeout is not None:
                options.update(socket_connect_timeout=timeout, socket_timeout=timeout, retry=Retry(NoBackoff(), 0))
            client = redis.Redis.from_url(url, health_check_interval=25, **options)
        _clients[(url, timeout)] = client
        mode = "external" if os.environ.get("REDIS_URL") else "embedded"
        get_logger().info("redis.connected", mode=mode, url=describe(url))
    return client
