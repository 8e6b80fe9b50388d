"""Ending a server subprocess a test started: politely first, then for sure, so no run leaves one behind."""

from __future__ import annotations

import subprocess


def stop_process(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM, up to `grace` seconds to exit, then SIGKILL; a no-op when it has exited already."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
