"""A benchmark's worker processes: real `celery worker`/`beat` subprocesses, and what they cost, from /proc.

Apart from the world because it is about processes, not platforms: each starts in its own process
group, so its pool children are found (for RSS, PSS and CPU) by group, and stopped with it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path

CELERY = str(Path(sys.executable).parent / "celery")
QUEUES = "ingest,route,dispatch,tracking,stock"


class Celery:
    """A `celery worker` or `beat` subprocess in its own process group (so its pool is found by group)."""

    def __init__(self, env: dict[str, str], name: str, log_dir: Path, *, app: str = "workers", beat: bool = False,
                 concurrency: int = 2, queues: str = QUEUES, pool: str = "prefork") -> None:
        args = [CELERY, "-A", app, "beat" if beat else "worker", "-l", "warning"]
        if beat:
            args += ["-s", str(log_dir / f"beat-{name}.db"), "--max-interval", "1"]
        else:
            args += ["-Q", queues, "-c", str(concurrency), "-P", pool, "-n", f"{name}@%h", "--without-gossip",
                     "--without-mingle", "--without-heartbeat", "-O", "fair"]
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(args, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def pids(self) -> list[int]:
        """The main process and its pool children (everything in its process group)."""
        return [pid for pid, _ in _group_rows(self.proc.pid)]

    def rss_bytes(self) -> int:
        return sum(rss for _, rss in _group_rows(self.proc.pid))

    def pss_bytes(self) -> int:
        """Proportional set size: pages a forked pool child shares with its parent counted once, not twice."""
        total = 0
        for pid in self.pids():
            with suppress(OSError, ValueError):
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        return total

    def stop(self, timeout: float = 30) -> None:
        if self.proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()


_PAGE = os.sysconf("SC_PAGE_SIZE")


def _group_rows(pgid: int) -> list[tuple[int, int]]:
    """(pid, resident bytes) of every process in a process group, read from /proc."""
    rows = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            statm = Path(f"/proc/{entry}/statm").read_text().split()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid:  # field 5 of stat: process group
            rows.append((int(entry), int(statm[1]) * _PAGE))
    return rows


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds of the given processes so far (children that exited are not counted)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        with suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def procfile_workers(path: Path = Path("Procfile")) -> list[tuple[str, str, int]]:
    """(name, queues, concurrency) of each `celery ... worker` line of the Procfile: production's layout."""
    layout = []
    for line in path.read_text().splitlines():
        name, _, command = line.partition(":")
        words = command.split()
        if "worker" not in words or "celery" not in words:
            continue
        layout.append((name.strip(), words[words.index("-Q") + 1], int(words[words.index("-c") + 1])))
    return layout
