"""A slow or hung Redis behind the ingress: answered 503 within 3 s so the platform retries, never 200
without the enqueue; first with handles that stall or fail, then with the real handle_push publishing to
a redis-server frozen by SIGSTOP."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from contextlib import suppress

import orjson
import pytest
import redis

from tests.security.ingress_harness import (
    IngressProcess,
    exchange,
    free_port,
    ingress_env,
    request_bytes,
    seller_config_dir,
    signed_push,
    statuses,
)
from workers.ingress import make_app, serve_in_thread


def timed_post(port: int) -> tuple[bytes, float]:
    body, headers = signed_push()
    started = time.monotonic()
    reply, _ = exchange(port, request_bytes(body, {**headers, "Connection": "close"}), timeout=10)
    return reply, time.monotonic() - started


def stalls(*_: object) -> tuple[int, object]:
    time.sleep(5)
    return 200, {"code": 0}


def late_success(*_: object) -> tuple[int, object]:
    time.sleep(2.5)
    return 200, {"code": 0}


def fails(*_: object) -> tuple[int, object]:
    raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.mark.parametrize("handle", [stalls, late_success, fails])
def test_a_stalled_or_failing_enqueue_is_answered_503_within_3_s(handle):
    running = serve_in_thread(make_app(handle))
    try:
        reply, seconds = timed_post(running.port)
    finally:
        running.stop()
    assert statuses(reply) == [503] and seconds < 3.0, (reply, seconds)
    assert orjson.loads(reply.split(b"\r\n\r\n", 1)[1]) == {"error": "try again"}
    assert b"connection: close" in reply.lower() and b"Connection refused" not in reply


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary")
def test_a_sigstopped_redis_gets_503_within_3_s_and_never_200_then_pushes_flow_again(tmp_path):
    port = free_port()
    frozen = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(tmp_path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    ingress = None
    try:
        for _ in range(100):
            with suppress(redis.ConnectionError):
                if redis.Redis.from_url(url).ping():
                    break
            time.sleep(0.05)
        env = ingress_env(url, seller_config_dir(tmp_path), f"sec-{uuid.uuid4().hex[:8]}")
        ingress = IngressProcess.start(env, tmp_path)
        reply, _ = timed_post(ingress.port)
        assert statuses(reply) == [200]  # warm: config loaded, broker connected

        os.kill(frozen.pid, signal.SIGSTOP)
        stalled = [timed_post(ingress.port) for _ in range(3)]
        assert [statuses(r) for r, _ in stalled] == [[503]] * 3
        assert max(s for _, s in stalled) < 3.0, [s for _, s in stalled]

        os.kill(frozen.pid, signal.SIGCONT)
        deadline, status = time.monotonic() + 10, 0
        while status != 200 and time.monotonic() < deadline:  # its stalled connections time out and reconnect
            found = statuses(timed_post(ingress.port)[0])
            status = found[0] if found else 0
        assert status == 200
        assert redis.Redis.from_url(url).llen("ingest") >= 2
    finally:
        with suppress(ProcessLookupError):
            os.kill(frozen.pid, signal.SIGCONT)
        if ingress is not None:
            ingress.stop()
        frozen.terminate()
        frozen.wait(10)
