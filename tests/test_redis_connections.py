"""A task cut off by its soft time limit between a Redis command and its reply must not leave the
reply behind for the next command on that connection (seen in the 100,000-order chaos run)."""

from __future__ import annotations

import signal

import pytest
from billiard.pool import soft_timeout_sighandler
from celery.exceptions import SoftTimeLimitExceeded

from orderhub import redisconn
from orderhub.redisconn import abandon_connections, get_redis
from workers import tasks


def _interrupted_after_sending(client, *args) -> None:
    """What a soft limit landing inside execute_command leaves: sent, never read, back in the pool."""
    connection = client.connection_pool.get_connection()
    connection.send_command(*args)
    client.connection_pool.release(connection)


def test_a_reply_left_unread_is_not_taken_by_the_next_command_once_connections_are_abandoned(redis_url, prefix):
    client = get_redis(redis_url)
    client.set(f"{prefix}:cursor", "2026-12-03T14:54:07+00:00")
    _interrupted_after_sending(client, "INCRBY", f"{prefix}:seconds", "1401")
    assert client.get(f"{prefix}:cursor") == 1401  # the hazard: the owed reply answers the next command
    client.connection_pool.disconnect()

    _interrupted_after_sending(client, "INCRBY", f"{prefix}:seconds", "1401")
    abandon_connections()
    assert client.get(f"{prefix}:cursor") == b"2026-12-03T14:54:07+00:00"
    pipe = client.pipeline(transaction=False)
    pipe.get(f"{prefix}:seconds")
    pipe.get(f"{prefix}:cursor")
    assert pipe.execute() == [b"2802", b"2026-12-03T14:54:07+00:00"]


def test_the_soft_limit_handler_of_a_pool_process_abandons_the_connections_first():
    previous = signal.signal(signal.SIGUSR1, soft_timeout_sighandler)
    try:
        tasks._guard_soft_limit()
        handler = signal.getsignal(signal.SIGUSR1)
        assert handler is tasks._soft_limit_reached
        generation = redisconn._generation
        with pytest.raises(SoftTimeLimitExceeded):
            handler(signal.SIGUSR1, None)
        assert redisconn._generation == generation + 1
    finally:
        signal.signal(signal.SIGUSR1, previous)
