"""A task cut off by its soft time limit between a Redis command and its reply must not leave the
reply behind for the next command on that connection (seen in the 100,000-order chaos run, where a
cursor read back as "1401.55..." and a rate-limit wait came out at 17,452 s).

The guarantee is tested as it happens in a worker: a real command waits on the server, the pool's
soft-limit signal lands while the client waits for the reply, the reply arrives afterwards, and the
next commands through Orderhub's client must get their own replies. Whether the Redis client library
would have dropped that connection by itself is not asserted: the guarantee holds either way."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import redis
from billiard.pool import soft_timeout_sighandler
from celery.exceptions import SoftTimeLimitExceeded

from orderhub.runtime import redisconn
from orderhub.runtime.redisconn import get_redis
from workers import common


@pytest.fixture
def soft_limit_handler():
    """The handler a pool process has while a task runs: billiard's, swapped for Orderhub's."""
    previous = signal.signal(signal.SIGUSR1, soft_timeout_sighandler)
    try:
        common._guard_soft_limit()
        yield signal.getsignal(signal.SIGUSR1)
    finally:
        signal.signal(signal.SIGUSR1, previous)


def _soft_limit_in(seconds: float) -> threading.Timer:
    """Send this process the pool's soft-limit signal, as billiard's timeout thread does."""
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGUSR1))
    timer.start()
    return timer


def test_a_reply_owed_when_the_soft_limit_lands_never_answers_the_next_command(redis_url, prefix, soft_limit_handler):
    client = get_redis(redis_url)
    cursor, queue, seconds = f"{prefix}:cursor", f"{prefix}:queue", f"{prefix}:seconds"
    client.set(cursor, "2026-12-03T14:54:07+00:00")
    client.set(seconds, "1401")

    timer = _soft_limit_in(0.2)
    with pytest.raises(SoftTimeLimitExceeded):
        client.blpop([queue], timeout=5)  # sent; the limit lands while its reply is awaited
    timer.join()
    # The reply the interrupted command was owed now arrives on its connection.
    redis.Redis.from_url(redis_url).rpush(queue, "owed-reply")
    time.sleep(0.1)

    assert client.get(cursor) == b"2026-12-03T14:54:07+00:00"
    pipe = client.pipeline(transaction=False)
    pipe.get(seconds)
    pipe.get(cursor)
    assert pipe.execute() == [b"1401", b"2026-12-03T14:54:07+00:00"]


def test_a_connection_returned_to_the_pool_with_a_reply_owed_is_not_reused_as_it_is(
    redis_url, prefix, soft_limit_handler
):
    """The narrower window: the limit lands after the command was written and before its read began,
    so the connection goes back to the pool owing a reply that has not arrived yet."""
    client = get_redis(redis_url)
    cursor, queue = f"{prefix}:cursor", f"{prefix}:queue"
    client.set(cursor, "2026-12-03T14:54:07+00:00")
    connection = client.connection_pool.get_connection()
    connection.send_command("BLPOP", queue, 1)  # answered (nil) in a second, on this connection
    client.connection_pool.release(connection)
    with pytest.raises(SoftTimeLimitExceeded):
        soft_limit_handler(signal.SIGUSR1, None)

    assert client.get(cursor) == b"2026-12-03T14:54:07+00:00"
    assert client.lpush(queue, "next") == 1


def test_the_soft_limit_handler_of_a_pool_process_abandons_the_connections_first(soft_limit_handler):
    assert soft_limit_handler is common._soft_limit_reached
    generation = redisconn._generation
    with pytest.raises(SoftTimeLimitExceeded):
        soft_limit_handler(signal.SIGUSR1, None)
    assert redisconn._generation == generation + 1
