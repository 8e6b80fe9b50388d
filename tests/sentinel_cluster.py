"""A Sentinel-managed Redis on loopback for tests: a primary, a replica and three sentinels, each a real
`redis-server` on a free port in a directory of its own, that a test can take the primary away from.

Persistence: `appendonly yes`, `appendfsync always` on both data servers, so a write the primary
acknowledged is on its disk (a restart from the AOF loses nothing); what a failover can lose is the
replication stream the replica had not received when the primary died. The primary refuses writes while
it has no replica within 10 s of lag (`min-replicas-to-write 1`, `min-replicas-max-lag 10`): that bounds
what an old primary cut off from everyone can accept, not what a SIGKILL loses. The replica has no such
floor, since once promoted it has no replica of its own to wait for (docs/deployment.md runs two).
Passwords: the data servers and the sentinels each require one, as production should, so a test also
shows that neither reaches a log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

import redis

from tests.chaos.redis_server import free_port
from tests.processes import stop_process

MASTER_NAME = "mymaster"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 5000


class SentinelCluster:
    def __init__(self, directory: Path, password: str, sentinel_password: str) -> None:
        self.directory = directory
        self.password, self.sentinel_password = password, sentinel_password
        self.primary_port, self.replica_port = free_port(), free_port()
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.procs: dict[str, subprocess.Popen] = {}

    def url(self, db: int = 0) -> str:
        """REDIS_URL for Orderhub: kombu's `;`-separated sentinel form, the master's name in the query."""
        login = f":{quote(self.password, safe='')}@"
        hosts = ";".join(f"sentinel://{login}127.0.0.1:{port}" for port in self.sentinel_ports)
        return (f"{hosts}/{db}?master_name={MASTER_NAME}"
                f"&sentinel_password={quote(self.sentinel_password, safe='')}")

    def start(self, timeout: float = 60) -> SentinelCluster:
        self.procs["primary"] = self._data_server("primary", self.primary_port,
                                                  "--min-replicas-to-write", "1", "--min-replicas-max-lag", "10")
        self.procs["replica"] = self._data_server("replica", self.replica_port,
                                                  "--replicaof", "127.0.0.1", str(self.primary_port))
        for n, port in enumerate(self.sentinel_ports):
            self.procs[f"sentinel{n}"] = self._sentinel(n, port)
        self.wait_ready(timeout)
        return self

    def _data_server(self, name: str, port: int, *extra: str) -> subprocess.Popen:
        home = self.directory / name
        home.mkdir(parents=True, exist_ok=True)
        args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", str(home),
                "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--maxmemory-policy", "noeviction",
                "--requirepass", self.password, "--masterauth", self.password,
                "--logfile", str(home / "redis.log"), *extra]
        return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def _sentinel(self, n: int, port: int) -> subprocess.Popen:
        home = self.directory / f"sentinel{n}"
        home.mkdir(parents=True, exist_ok=True)
        conf = home / "sentinel.conf"  # Sentinel rewrites its own file as it learns the topology
        conf.write_text("\n".join([
            f"port {port}", "bind 127.0.0.1", f"dir {home}", f"logfile {home / 'sentinel.log'}",
            f"requirepass {self.sentinel_password}",
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.primary_port} 2",
            f"sentinel auth-pass {MASTER_NAME} {self.password}",
            f"sentinel down-after-milliseconds {MASTER_NAME} {DOWN_AFTER_MS}",
            f"sentinel failover-timeout {MASTER_NAME} {FAILOVER_TIMEOUT_MS}",
            f"sentinel parallel-syncs {MASTER_NAME} 1", ""]))
        return subprocess.Popen(["redis-server", str(conf), "--sentinel"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)

    def sentinel(self, port: int) -> redis.Redis:
        return redis.Redis(port=port, password=self.sentinel_password, socket_timeout=1, socket_connect_timeout=1)

    def server(self, port: int, db: int = 0) -> redis.Redis:
        """A plain client of one data server (not following the master)."""
        return redis.Redis(port=port, db=db, password=self.password, socket_timeout=1, socket_connect_timeout=1)

    def wait_ready(self, timeout: float) -> None:
        """Until every sentinel knows the primary, a replica in sync with it and the two other sentinels
        (a failover needs a majority of them to agree)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self._sees_everything(port) for port in self.sentinel_ports):
                return
            time.sleep(0.2)
        raise RuntimeError(f"Sentinel cluster not ready after {timeout}s; logs under {self.directory}")

    def _sees_everything(self, port: int) -> bool:
        try:
            master = self.sentinel(port).sentinel_master(MASTER_NAME)
            replicas = self.sentinel(port).sentinel_slaves(MASTER_NAME)
        except (redis.RedisError, OSError):
            return False
        return (int(master["port"]) == self.primary_port and master["num-other-sentinels"] >= 2
                and any(r["port"] == self.replica_port and r["master-link-status"] == "ok" and not r["is_sdown"]
                        for r in replicas))

    def master_port(self) -> int | None:
        """The port the first sentinel that answers names as the master (None if none answers)."""
        for port in self.sentinel_ports:
            try:
                return int(self.sentinel(port).sentinel_get_master_addr_by_name(MASTER_NAME)[1])
            except (redis.RedisError, OSError, TypeError):
                continue
        return None

    def replication_lag(self) -> int:
        """Bytes of the primary's replication stream its replica has not acknowledged yet (-1: unknown)."""
        try:
            info = self.server(self.primary_port).info("replication")
            return int(info["master_repl_offset"]) - int(info["slave0"]["offset"])
        except (redis.RedisError, KeyError, OSError):
            return -1

    def kill_primary(self) -> None:
        """SIGKILL: no shutdown, no last flush to the replica, as a crashed host or process."""
        proc = self.procs["primary"]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop(self) -> None:
        for proc in self.procs.values():
            stop_process(proc)

    def logs(self) -> list[Path]:
        return sorted(self.directory.glob("*/*.log"))
