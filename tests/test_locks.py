from __future__ import annotations

import time

from pipeline.locks import Lease, lease


def test_only_one_holder_and_an_expired_holder_cannot_release_the_next(redis_client, prefix):
    key = f"{prefix}:lock:sync:acme:shop-1"
    first = Lease(redis_client, key, ttl_seconds=0.2)
    second = Lease(redis_client, key, ttl_seconds=5)
    assert first.acquire() and not second.acquire()
    time.sleep(0.25)  # first's lease runs out
    assert second.acquire()
    assert not first.release()  # its token no longer matches
    assert redis_client.get(key).decode() == second.token
    assert second.release() and redis_client.get(key) is None


def test_context_manager_releases_and_reports_contention(redis_client, prefix):
    key = f"{prefix}:lock:x"
    with lease(redis_client, key, 5) as held:
        assert held
        with lease(redis_client, key, 5) as again:
            assert not again
        assert redis_client.get(key) is not None
    assert redis_client.get(key) is None
