"""`orderhub webhooks serve` as the process production runs, with the real handle_push and a real Redis
enqueue: its memory under a 200 MiB flood, slow-loris and idle connections, and a burst of posts."""

from __future__ import annotations

import http.client
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from tests.integration.workers import free_db, release_db
from tests.security.ingress_harness import (
    PATH,
    IngressProcess,
    exchange,
    ingress_env,
    read_until_closed,
    request_bytes,
    seller_config_dir,
    signed_push,
    statuses,
)

HEADER_TIMEOUT = 2.0


@pytest.fixture(scope="module")
def served(tmp_path_factory, redis_url):
    """(ingress, client on its Redis database): the fetches it enqueues land in that database's `ingest`."""
    root = tmp_path_factory.mktemp("ingress")
    url = free_db(redis_url)
    env = ingress_env(url, seller_config_dir(root), f"sec-{uuid.uuid4().hex[:8]}")
    ingress = IngressProcess.start(env, root, "--header-timeout", str(HEADER_TIMEOUT))
    try:
        post_push(ingress.port)  # warm: the first push loads config and connects to Redis
        yield ingress, redis.Redis.from_url(url)
    finally:
        ingress.stop()
        release_db(redis_url, url)
    assert "Traceback" not in ingress.log_text()


def post_push(port: int, chunk: int | None = None) -> tuple[int, float]:
    """A fresh signed push on a new connection: (status, seconds to the reply)."""
    body, headers = signed_push()
    started = time.monotonic()
    reply, _ = exchange(port, request_bytes(body, {**headers, "Connection": "close"}, chunk=chunk))
    found = statuses(reply)
    return (found[0] if found else 0), time.monotonic() - started


def test_a_signed_push_plain_or_chunked_is_answered_200_after_its_fetch_is_enqueued(served):
    ingress, client = served
    before = client.llen("ingest")
    assert post_push(ingress.port)[0] == 200
    assert post_push(ingress.port, chunk=9)[0] == 200
    assert client.llen("ingest") == before + 2
    reply, closed = exchange(ingress.port, request_bytes(b"{}", {}).replace(b"Content-Length: 2", b"Content-Length: abc"))
    assert statuses(reply) == [400] and closed and b"Traceback" not in reply


def test_a_200_mib_negative_length_flood_keeps_the_process_under_100_mb(served):
    ingress, client = served
    before = client.llen("ingest")
    peak, stop = [ingress.rss_mb()], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak.append(ingress.rss_mb())
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    heads = [f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".encode(),
             f"POST {PATH} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode()]
    block, chunk_block = b"A" * (1 << 20), b"100000\r\n" + b"A" * (1 << 20) + b"\r\n"
    offered, connections, answers = 0, 0, []
    try:
        for head, payload in ((heads[0], block), (heads[1], chunk_block)):
            sent = 0
            while sent < 200 << 20:  # each kind: 200 MiB thrown at it, over as many connections as it takes
                connections += 1
                with socket.create_connection(("127.0.0.1", ingress.port), timeout=5) as sock:
                    try:
                        sock.sendall(head)
                        while sent < 200 << 20:
                            sock.sendall(payload)
                            sent += len(payload)
                    except OSError:
                        pass  # the server closed: what it answered is still to be read
                    answers.append(statuses(read_until_closed(sock, 2)[0]))
            offered += sent
    finally:
        stop.set()
        sampler.join(5)
    print(f"flood: {offered >> 20} MiB over {connections} connections, RSS {peak[0]:.1f} -> peak {max(peak):.1f} MB")
    assert offered >= 400 << 20 and max(peak) < 100, f"peak RSS {max(peak):.1f} MB over {connections} connections"
    assert all(a in ([], [400], [413]) for a in answers) and [400] in answers and [413] in answers
    assert client.llen("ingest") == before


def test_400_slow_loris_and_400_idle_connections_leave_a_valid_push_its_200_within_1_s(served):
    ingress, _ = served
    assert post_push(ingress.port)[0] == 200
    idle = [socket.create_connection(("127.0.0.1", ingress.port), timeout=10) for _ in range(400)]
    half = [socket.create_connection(("127.0.0.1", ingress.port), timeout=10) for _ in range(400)]
    try:
        for sock in half:
            sock.sendall(f"POST {PATH} HTTP/1.1\r\nHost: x\r\nX-Slow: ".encode())
        time.sleep(0.3)
        status, seconds = post_push(ingress.port)
        print(f"slow-loris: valid push {status} in {seconds * 1000:.0f} ms beside 800 held connections")
        assert status == 200 and seconds < 1.0, (status, seconds)
        deadline = time.monotonic() + HEADER_TIMEOUT + 4
        still_open = 0
        for sock in half + idle:  # every one closed by the server once the header timeout passed
            data, closed = read_until_closed(sock, max(0.1, deadline - time.monotonic()))
            still_open += not closed or data != b""
        assert still_open == 0
    finally:
        for sock in idle + half:
            sock.close()


def test_a_burst_of_1000_posts_at_50_concurrent_is_all_answered_none_reset(served):
    ingress, client = served
    before = client.llen("ingest")
    pushes = [signed_push() for _ in range(1000)]

    def post(push: tuple[bytes, dict[str, str]]) -> int | str:
        conn = http.client.HTTPConnection("127.0.0.1", ingress.port, timeout=10)
        try:
            conn.request("POST", PATH, body=push[0], headers=push[1])
            return conn.getresponse().status
        except OSError as exc:
            return type(exc).__name__
        finally:
            conn.close()

    started = time.monotonic()
    with ThreadPoolExecutor(50) as pool:
        results = list(pool.map(post, pushes))
    counts = {r: results.count(r) for r in set(results)}
    print(f"burst: {counts} in {time.monotonic() - started:.1f} s")
    assert counts == {200: 1000}, f"{counts} in {time.monotonic() - started:.1f} s"
    assert client.llen("ingest") == before + 1000
