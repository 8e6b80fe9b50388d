from __future__ import annotations

import subprocess
import sys
import time

from pipeline import keys
from pipeline.locks import Lease, lease, live_lease


def test_only_one_holder_and_an_expired_holder_cannot_release_the_next(redis_client, prefix):
    key = keys.sync_lock(prefix, "acme", "shop-1")
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


def test_a_live_lease_outlasts_its_ttl_while_held_and_is_gone_after(redis_client, prefix):
    key = keys.sync_lock(prefix, "acme", "shop-2")
    with live_lease(redis_client, key, ttl_seconds=0.3) as held:
        assert held
        time.sleep(1.0)  # three ttls: only the renewals keep it
        assert redis_client.get(key) is not None
        with live_lease(redis_client, key, ttl_seconds=0.3) as again:
            assert not again
    assert redis_client.get(key) is None


def test_a_killed_holder_stops_blocking_within_the_ttl(redis_client, prefix):
    """A holder SIGKILLed mid-block renews nothing, so the next one gets in after the short ttl."""
    key = keys.sync_lock(prefix, "acme", "shop-3")
    url = redis_client.connection_pool.connection_kwargs
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time, redis\n"
        "from pipeline.locks import live_lease\n"
        f"client = redis.Redis(host={url['host']!r}, port={url['port']}, db={url.get('db', 0)})\n"
        f"with live_lease(client, {key!r}, ttl_seconds=0.6) as held:\n"
        "    print(held, flush=True); time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"
        time.sleep(1.5)  # held past two ttls by the renewals
        assert not Lease(redis_client, key, 5).acquire()
        holder.kill()
        holder.wait(5)
        time.sleep(0.8)
        assert Lease(redis_client, key, 5).acquire()
    finally:
        holder.kill()
