"""Redis high availability (issue E, point 9): one `REDIS_URL` naming a Sentinel-managed Redis serves both
the Celery broker and the order store, and Orderhub carries on when the primary dies.

On loopback: a primary, a replica and three sentinels (tests/sentinel_cluster.py), all with passwords.
The fast tests read the URL, show the CLI's one line with no password when no sentinel answers, and take
the store's and the broker's clients through a failover by hand. The slow one runs the real pipeline (five
marketplace emulators, two warehouse emulators, Celery workers and beat, all on the Sentinel URL),
SIGKILLs the primary mid-run, and counts every order after quiet with the chaos run's ledger: seen,
submitted once, submitted more than once, lost. It prints the time from the primary's death to the new
master, and to the first task whose completion the new master recorded.

What a failover can lose: replication is asynchronous, so writes the primary acknowledged and had not
yet sent to the replica are gone. A probe measures it: a client counts up on the primary as fast as it
can, and the acknowledged count is compared with what the promoted replica holds.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import kombu
import orjson
import pytest
import redis
from click.testing import CliRunner

from orderhub.cli import main
from orderhub.runtime.redisconn import (
    RedisURLError,
    broker_transport_options,
    celery_url,
    describe,
    get_redis,
    parse_sentinel,
)
from pipeline import keys
from pipeline.store import OrderStore
from tests.chaos import accounting
from tests.chaos.redis_server import free_port
from tests.chaos.runner import wait_for_quiet
from tests.chaos.world import (
    PLATFORMS,
    Crew,
    Faults,
    publish_endpoints,
    start_emulators,
    worker_env,
    write_seller,
)
from tests.factories import make_order, received
from tests.integration.conftest import PREFIX
from tests.integration.workers import wait_until
from tests.sentinel_cluster import MASTER_NAME, SentinelCluster

PASSWORD, SENTINEL_PASSWORD = "redis-pw-Sentinel-4417", "sentinel-pw-Quorum-2208"
DB = 3  # not 0: the broker and the store must both take the database from the URL
ORDERS, SEED, STOCK = 300, 31, 40
KILL_AT_OUTBOUNDS = 20
VISIBILITY_TIMEOUT = 60  # a task cut off by the failover is redelivered within ~70 s (workers/app.py)
NO_FAULTS = Faults(error_rate=0, throttle_rate=0, timeout_rate=0, malformed_rate=0)  # the failover is the subject
EVERY_CURSOR = datetime(2000, 1, 1, tzinfo=UTC)  # wait_for_quiet's cut: every shop synced at least once


@pytest.fixture
def cluster(tmp_path: Path):
    cluster = SentinelCluster(tmp_path / "redis", PASSWORD, SENTINEL_PASSWORD).start()
    yield cluster
    cluster.stop()


def test_a_sentinel_url_is_read_once_for_the_store_and_for_kombu():
    url = (f"sentinel://:{PASSWORD}@10.0.0.1:26379;sentinel://10.0.0.2;sentinel://[fd00::3]:26380/2"
           f"?master_name=orders&sentinel_password={SENTINEL_PASSWORD}")
    target = parse_sentinel(url)
    assert target.sentinels == (("10.0.0.1", 26379), ("10.0.0.2", 26379), ("fd00::3", 26380))
    assert (target.master_name, target.db, target.password) == ("orders", 2, PASSWORD)
    assert PASSWORD not in repr(target) and SENTINEL_PASSWORD not in repr(target)
    # kombu takes the login and database from whichever sentinel it is on, the master's name from options
    assert celery_url(url) == (f"sentinel://:{PASSWORD}@10.0.0.1:26379/2;sentinel://:{PASSWORD}@10.0.0.2:26379/2;"
                               f"sentinel://:{PASSWORD}@[fd00::3]:26380/2")
    options = broker_transport_options(url)
    assert options["master_name"] == "orders" and options["sentinel_kwargs"]["password"] == SENTINEL_PASSWORD
    connection = kombu.Connection(celery_url(url), transport_options=options)
    assert connection.transport_cls == "sentinel" and len(connection.alt) == 3 and connection.virtual_host == "2"
    shown = describe(url)
    assert PASSWORD not in shown and SENTINEL_PASSWORD not in shown
    assert shown.startswith("sentinel://***@10.0.0.1:26379;sentinel://10.0.0.2;") and "sentinel_password=***" in shown
    assert describe("sentinel://:pass;word@h1:26379/0?master_name=m") == "***;***"  # a raw ';' in a password
    assert broker_transport_options("redis://127.0.0.1:6379/0") == {}
    for bad in ("sentinel://h1:26379/0", "sentinel://h1?master_name=m&socket_timeout=1",
                "sentinel://:a1234@h1;sentinel://:b1234@h2?master_name=m", "sentinel://h1;redis://h2?master_name=m"):
        with pytest.raises(RedisURLError) as caught:
            parse_sentinel(bad)
        assert "a1234" not in str(caught.value) and "b1234" not in str(caught.value)


def test_the_cli_says_in_one_line_without_a_password_when_no_sentinel_answers(monkeypatch, tmp_path):
    ports = [free_port() for _ in range(3)]  # nothing listens on them
    monkeypatch.setenv("REDIS_URL", ";".join(f"sentinel://:{PASSWORD}@127.0.0.1:{p}" for p in ports)
                       + f"/0?master_name={MASTER_NAME}&sentinel_password={SENTINEL_PASSWORD}")
    monkeypatch.setenv("ORDERHUB_CONFIG", str(tmp_path))
    started = time.monotonic()
    result = CliRunner().invoke(main, ["holds", "list"])
    assert time.monotonic() - started < 10
    assert result.exit_code == 2, (result.output, result.exception)
    lines = [line for line in result.output.splitlines() if line.strip() and not line.startswith("{")]
    assert len(lines) == 1 and lines[0].startswith(f"orderhub: Redis at sentinel://***@127.0.0.1:{ports[0]};"), lines
    assert "is unreachable" in lines[0], lines
    assert PASSWORD not in result.output and SENTINEL_PASSWORD not in result.output


class AckedCounter:
    """Counts up on the primary, one INCR at a time, until it dies; `acked` is the last value it answered."""

    def __init__(self, cluster: SentinelCluster) -> None:
        self.client, self.acked = cluster.server(cluster.primary_port), 0
        self.thread = threading.Thread(target=self._run, name="acked-counter", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                self.acked = self.client.incr("probe:acked")
            except (redis.RedisError, OSError):
                return

    def lost_on(self, cluster: SentinelCluster) -> int:
        """Acknowledged increments the promoted replica does not have."""
        self.thread.join(10)
        return self.acked - int(cluster.server(cluster.replica_port).get("probe:acked") or 0)


def _wait_for_failover(cluster: SentinelCluster, timeout: float = 60) -> None:
    wait_until(lambda: cluster.master_port() == cluster.replica_port, timeout, interval=0.05,
               what="the sentinels to promote the replica")


def test_the_store_and_the_broker_follow_a_failover_and_keep_what_was_acknowledged(cluster, prefix):
    url = cluster.url(DB)
    client = get_redis(url)
    store = OrderStore(client, prefix)  # its writes are Lua scripts (EVALSHA): the new master loads them again
    before = [make_order(n) for n in range(20)]
    store.upsert("acme", [received(o) for o in before])
    broker = kombu.Connection(celery_url(url), transport_options=broker_transport_options(url))
    queue = broker.SimpleQueue(f"{prefix}-queue")
    queue.put({"n": 1})
    assert client.connection_pool.get_master_address() == ("127.0.0.1", cluster.primary_port)

    counter = AckedCounter(cluster)
    time.sleep(0.5)
    died = time.monotonic()
    cluster.kill_primary()
    _wait_for_failover(cluster)
    failover = time.monotonic() - died
    lost = counter.lost_on(cluster)

    after = [make_order(n) for n in range(20, 30)]
    store.upsert("acme", [received(o) for o in after])  # through the same pooled client: it reconnected
    assert client.connection_pool.get_master_address() == ("127.0.0.1", cluster.replica_port)
    assert all(store.get("acme", o.key) is not None for o in before + after)
    assert client.execute_command("ROLE")[0] == b"master"
    fresh = kombu.Connection(celery_url(url), transport_options=broker_transport_options(url))
    fresh_queue = fresh.SimpleQueue(f"{prefix}-queue")
    assert fresh_queue.get(timeout=10).payload == {"n": 1}  # queued before the death, read from the new master
    fresh_queue.put({"n": 2})
    assert fresh_queue.get(timeout=10).payload == {"n": 2}
    for q in (queue, fresh_queue):
        q.close()
    broker.release()
    fresh.release()
    print(f"\nstore/broker failover: new master named {failover:.1f} s after the primary's SIGKILL; "
          f"{counter.acked} acknowledged increments on the old primary, {lost} missing on the new one")


def _stored(client: redis.Redis) -> int:
    """Orders the store has received (the chaos run's measure); -1: no answer."""
    try:
        return OrderStore(client, PREFIX).event_counts(accounting.SELLER).get("received", 0)
    except redis.RedisError:
        return -1


def _tasks_done(client: redis.Redis) -> int:
    """Tasks whose completion (task_postrun's duration record, workers/common.py) reached Redis; -1: no answer."""
    try:
        counts = client.hgetall(keys.task_seconds(PREFIX))
    except redis.RedisError:
        return -1
    return sum(int(float(v)) for k, v in counts.items() if k.endswith(b":count"))


def _outbounds(emulators: dict) -> int:
    """Outbound orders the two warehouse emulators have created so far."""
    return sum(sum(emulators[w].count_by_reference().values()) for w in ("fourpx", "shipbob"))


def _first_success_after(logs: list[Path], moment: datetime) -> tuple[float, str] | None:
    """(seconds after `moment`, task) of the first 'succeeded' line in the worker logs stamped after it."""
    found: list[tuple[float, str]] = []
    for path in logs:
        for line in path.read_text(errors="replace").splitlines():
            if '"event":"Task ' not in line or " succeeded in " not in line:
                continue
            try:
                event = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            at = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
            if at > moment:
                found.append(((at - moment).total_seconds(), event["event"].split("[", 1)[0][5:]))
    return min(found) if found else None


@pytest.mark.slow
def test_workers_carry_on_through_a_sentinel_failover_and_lose_nothing(cluster, tmp_path):
    url = cluster.url(DB)
    client = get_redis(url)
    emulators = start_emulators(ORDERS, SEED, STOCK, NO_FAULTS)

    def log(message: str) -> None:
        print(f"  [{time.strftime('%H:%M:%S')}] {message}", flush=True)

    try:
        publish_endpoints(client, emulators)
        write_seller(tmp_path)
        seen = sum(len(emulators[p].ground_truth()) for p in PLATFORMS)
        crew = Crew(worker_env(url, tmp_path, VISIBILITY_TIMEOUT), tmp_path, random.Random(SEED), size=2)
        started = time.monotonic()
        crew.start()
        try:
            # Mid-run: warehouses taking outbound orders while syncs, routing and tracking polls go on.
            wait_until(lambda: _outbounds(emulators) >= KILL_AT_OUTBOUNDS, 300, interval=0.1,
                       what=f"{KILL_AT_OUTBOUNDS} outbound orders created")
            counter = AckedCounter(cluster)
            time.sleep(0.2)
            died, died_wall = time.monotonic(), datetime.now(UTC)
            cluster.kill_primary()
            # What the primary had passed on when it died, read from the replica before anything is promoted.
            replica = cluster.server(cluster.replica_port, DB)
            stored_at_death, tasks_at_death = _stored(replica), _tasks_done(replica)
            outbounds_at_death = _outbounds(emulators)
            log(f"primary SIGKILLed with {stored_at_death}/{seen} orders stored, {tasks_at_death} tasks done")
            _wait_for_failover(cluster)
            failover = time.monotonic() - died
            lost_writes = counter.lost_on(cluster)
            wait_until(lambda: _tasks_done(client) > tasks_at_death, 180, interval=0.1,
                       what="a task completed on the new master")
            first_task = time.monotonic() - died
            log(f"new master after {failover:.1f} s; first task recorded by it {first_task:.1f} s after the death")

            def all_stored() -> bool:
                crew.keep_beat()
                return _stored(client) >= seen

            wait_until(all_stored, 420, interval=1, what="every order stored")
            quiet = wait_for_quiet(client, emulators, 10.0, time.monotonic() + 300, log, EVERY_CURSOR)
            took = time.monotonic() - started
        finally:
            crew.stop()
        figures = accounting.account(client, emulators, STOCK)
        worker_logs = sorted(tmp_path.glob("w*.log")) + sorted(tmp_path.glob("beat*.log"))
        first_logged = _first_success_after(sorted(tmp_path.glob("w*.log")), died_wall)
        reconnects = sum(text.count("Connection to broker lost") for text in (p.read_text(errors="replace")
                                                                                for p in worker_logs))
        leaked = [p.name for p in worker_logs + cluster.logs()
                  if PASSWORD in (text := p.read_text(errors="replace")) or SENTINEL_PASSWORD in text]
        broker_db = any(client.scan_iter(match="_kombu.binding.*", count=1000))
    finally:
        for emulator in emulators.values():
            emulator.stop()

    print(f"\nSentinel failover under the real pipeline ({took:.0f} s in all, 2 workers + beat, quiet={quiet}):"
          f"\n  primary SIGKILLed at {stored_at_death}/{seen} orders stored, {tasks_at_death} tasks done, "
          f"{outbounds_at_death}/{_outbounds(emulators)} outbound orders created"
          f"\n  failover: replica named master {failover:.1f} s after the death"
          f"\n  first task completed after the death (recorded by the new master): {first_task:.1f} s"
          + (f"; first 'succeeded' in a worker log: {first_logged[0]:.1f} s ({first_logged[1]})" if first_logged else "")
          + f"\n  acknowledged writes lost in the failover (probe): {lost_writes} of {counter.acked}"
          f"\n  orders seen {figures.seen}, submitted once {figures.submitted_once}, "
          f"submitted more than once {figures.submitted_more}, lost {figures.lost}"
          f"\n  broker reconnects logged by workers: {reconnects}\n  where every order ended:")
    for name, n in sorted(figures.categories.items()):
        print(f"    {name:<72} {n:>5}")
    for example in figures.lost_examples:
        print(f"    ! {example}")
    assert quiet, "the run did not settle"
    assert figures.seen == seen and figures.lost == 0 and figures.submitted_more == 0
    assert figures.submitted_once > 0 and reconnects >= 1
    assert broker_db, f"Celery's bindings are not in database {DB}"
    assert not leaked, f"a Redis or Sentinel password in {leaked}"
