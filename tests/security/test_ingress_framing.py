"""HTTP framing at the ingress (uvicorn in a thread, a recording handle in place of handle_push): every
malformed, oversized or smuggling request of issue 21 is refused and its connection closed, and nothing
inside a body is ever parsed as a request of its own."""

from __future__ import annotations

import socket
import time

import pytest

from tests.security.ingress_harness import (
    PATH,
    SHOP,
    exchange,
    read_until_closed,
    request_bytes,
    signed_push,
    statuses,
)
from workers.ingress import MAX_BODY, make_app, serve_in_thread

HEAD = f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
NO_TRACE = (b"Traceback", b'File "', b"Error:")


@pytest.fixture
def ingress():
    """(port, calls): every call the server made to its handle, which answers 200."""
    calls: list[tuple[str, str, dict[str, str], bytes]] = []

    def handle(seller: str, shop: str, headers: dict[str, str], body: bytes):
        calls.append((seller, shop, headers, body))
        return 200, {"code": 0, "message": "success"}

    running = serve_in_thread(make_app(handle, body_timeout=1.0), header_timeout=2.0)
    yield running.port, calls
    running.stop()


def test_negative_length_gets_400_and_the_connection_closes_before_the_flood_is_read(ingress):
    port, calls = ingress
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(HEAD + b"Content-Length: -1\r\n\r\n" + b"A" * 65536)
        reply, closed = read_until_closed(sock, 5)
        offered = 0
        try:
            for _ in range(64):  # 64 MiB more: the server has closed, so this fails long before
                sock.sendall(b"A" * (1 << 20))
                offered += 1 << 20
        except OSError:
            pass
    assert statuses(reply) == [400] and closed and calls == []
    assert offered < 32 << 20, f"{offered >> 20} MiB more were taken after the 400"


@pytest.mark.parametrize("header", [b"Content-Length: abc", b"Content-Length: 0x10", b"Content-Length: +5",
                                    b"Content-Length: 99999999999999999999999"])
def test_a_non_numeric_length_gets_a_short_400_without_a_traceback(ingress, header):
    port, calls = ingress
    reply, closed = exchange(port, HEAD + header + b"\r\n\r\n" + b'{"a":1}')
    assert statuses(reply) == [400] and closed and calls == []
    assert len(reply.split(b"\r\n\r\n", 1)[1]) < 100 and not any(t in reply for t in NO_TRACE)


@pytest.mark.parametrize("framing", [
    b"Content-Length: 5\r\nContent-Length: 6",  # conflicting lengths
    b"Content-Length: 5\r\nTransfer-Encoding: chunked",  # the smuggling pair
    b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
    b"Transfer-Encoding: gzip, chunked",
    b"X-No-Length: 1",  # neither a length nor chunked
])
def test_conflicting_or_missing_framing_gets_400_and_a_close(ingress, framing):
    port, calls = ingress
    reply, closed = exchange(port, HEAD + framing + b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
    assert statuses(reply) == [400] and closed and calls == []
    assert b"connection: close" in reply.lower()


def test_identical_duplicate_lengths_read_as_one_length_so_nothing_desyncs(ingress):
    """RFC 9112 §6.3 lets a recipient take `5, 5` as 5: the framing is the same for every reader."""
    port, calls = ingress
    second = request_bytes(b"world", {"Connection": "close"})
    reply, _ = exchange(port, HEAD + b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello" + second)
    assert statuses(reply) == [200, 200] and [c[3] for c in calls] == [b"hello", b"world"]


def test_an_oversized_length_gets_413_and_a_signed_push_hidden_in_its_body_is_never_parsed(ingress):
    port, calls = ingress
    hidden = request_bytes(*signed_push())
    reply, closed = exchange(port, HEAD + f"Content-Length: {MAX_BODY + 1}\r\n\r\n".encode() + hidden * 50)
    assert statuses(reply) == [413] and closed and calls == []
    assert b"connection: close" in reply.lower()


def test_a_chunked_push_is_read_whole_and_the_next_request_on_the_connection_is_framed_right(ingress):
    port, calls = ingress
    body, headers = signed_push()
    pipelined = request_bytes(body, headers, chunk=7) + request_bytes(b"second", {"Connection": "close"})
    reply, closed = exchange(port, pipelined)
    assert statuses(reply) == [200, 200] and closed
    assert [c[3] for c in calls] == [body, b"second"]
    seller, shop, seen, _ = calls[0]
    assert (seller, shop, seen[":path"], seen["authorization"]) == ("acme", SHOP, PATH, headers["Authorization"])


def test_an_oversized_chunked_body_gets_413_and_its_chunks_never_parse_as_requests(ingress):
    port, calls = ingress
    hidden = request_bytes(*signed_push())
    body = hidden * (MAX_BODY // len(hidden) + 50)  # every chunk holds complete signed requests
    reply, closed = exchange(port, request_bytes(body, {}, chunk=len(hidden) * 20))
    assert statuses(reply) == [413] and closed and calls == []


@pytest.mark.parametrize("path,method,status", [
    ("/webhooks/acme", "POST", 404),
    ("/webhooks/acme/shop/extra", "POST", 404),
    ("/webhooks/ac%2Fme/shop", "POST", 404),
    ("/webhooks/acme/sh$op", "POST", 404),
    ("/webhooks/" + "a" * 65 + "/shop", "POST", 404),
    ("/admin", "POST", 404),
    (PATH, "GET", 405),
    (PATH, "PUT", 405),
])
def test_only_post_to_a_valid_webhook_path_reaches_the_handle(ingress, path, method, status):
    port, calls = ingress
    reply, closed = exchange(port, f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{{}}".encode())
    assert statuses(reply) == [status] and closed and calls == []


def test_a_body_slower_than_the_body_timeout_gets_408(ingress):
    port, calls = ingress
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(HEAD + b"Content-Length: 100\r\n\r\n" + b"x" * 10)
        reply, closed = read_until_closed(sock, 5)
    assert statuses(reply) == [408] and closed and calls == []
    assert 0.9 < time.monotonic() - started < 3


def test_a_head_over_16_kib_is_refused_whether_it_arrives_whole_or_in_pieces(ingress):
    port, calls = ingress
    big = HEAD + b"X-Big: " + b"b" * 20000 + b"\r\nContent-Length: 2\r\n\r\n{}"
    reply, closed = exchange(port, big)  # one read: h11 parses it whole, the app refuses it
    assert statuses(reply) == [431] and closed
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(big[:18000])  # in pieces: h11 refuses once 16 KiB of an unfinished head are buffered
        reply, closed = read_until_closed(sock, 5)
    assert statuses(reply) == [400] and closed and calls == []


def test_connections_over_the_cap_are_closed_at_once_and_room_returns_after_the_header_timeout():
    running = serve_in_thread(make_app(lambda *_: (200, {})), max_connections=20, header_timeout=1.0)
    try:
        idle = [socket.create_connection(("127.0.0.1", running.port)) for _ in range(20)]
        time.sleep(0.3)  # all accepted
        reply, closed = exchange(running.port, request_bytes(b"{}", {}), timeout=3)
        assert reply == b"" and closed
        time.sleep(1.5)  # the idle ones are closed by the header timeout
        reply, _ = exchange(running.port, request_bytes(b"{}", {"Connection": "close"}))
        assert statuses(reply) == [200]
        for sock in idle:
            sock.close()
    finally:
        running.stop()
