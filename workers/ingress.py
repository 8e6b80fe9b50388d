"""The webhook ingress: POST /webhooks/{seller}/{shop_id} on uvicorn, with the limits an open port needs.

Platforms push from the internet, so anyone can send anything here; the http.server this replaces read
any length it was told, parsed an unread body as the next request and kept a thread per slow client.
h11 (uvicorn's parser) refuses bad lengths and transfer codings with 400. This app checks the route first,
refuses a length with chunked, or no framing (400), counts the 1 MiB limit on bytes read (413), bounds
the body's time (408) and handle_push's (503, so the platform retries; never 200 unless handle_push said
200), and closes the connection after every 4xx/5xx. _HeadDeadline adds the header timeout and the
connection cap uvicorn lacks. The list for ops: docs/security.md, "The webhook ingress".
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import h11
import orjson
import structlog
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from orderhub.runtime.redisconn import get_redis
from workers.webhooks import handle_push

log = structlog.get_logger()

MAX_BODY = 1 << 20
MAX_HEAD = 16 * 1024  # request head: h11 refuses a longer incomplete one (400), the app a complete one (431)
HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 10.0
HANDLE_TIMEOUT = 2.0  # the enqueue's bound: answered 503 within it, well inside the platforms' own timeouts
MAX_CONNECTIONS = 2000
BACKLOG = 2048
KEEP_ALIVE = 5
REDIS_TIMEOUT = 1.0  # per connect and per reply, for this process's Redis calls (no retry of a timeout)
THREADS = 32  # handle_push calls at once; more wait their turn inside HANDLE_TIMEOUT
_SEGMENT = re.compile(r"[A-Za-z0-9_.-]{1,64}")

Handle = Callable[[str, str, dict[str, str], bytes], tuple[int, Any]]
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class _Refused(Exception):
    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status, self.error = status, error


class _Gone(Exception):
    """The client hung up before its body was read: nobody to answer."""


def route(raw_path: bytes) -> tuple[str, str] | None:
    """(seller, shop_id) of /webhooks/{seller}/{shop_id}, each segment 1-64 of [A-Za-z0-9_.-]; else None."""
    parts = raw_path.decode("latin-1").strip("/").split("/")
    if len(parts) != 3 or parts[0] != "webhooks" or not all(_SEGMENT.fullmatch(p) for p in parts[1:]):
        return None
    return parts[1], parts[2]


def _framing(headers: dict[str, str]) -> None:
    """What h11 lets through but we refuse: a length and chunked at once (the smuggling pair), no framing
    at all, or a length over the limit (refused before a byte of the body is read)."""
    length, coding = headers.get("content-length"), headers.get("transfer-encoding")
    if length is not None and coding is not None:
        raise _Refused(400, "Content-Length and Transfer-Encoding together")
    if length is None and coding is None:
        raise _Refused(400, "Content-Length or chunked body required")
    if length is not None and int(length) > MAX_BODY:  # h11 passed only digits
        raise _Refused(413, "body too large")


async def _body(receive: Receive, timeout: float) -> bytes:
    """The body, read as it arrives: 413 as soon as it passes MAX_BODY, 408 when it takes over `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    body = bytearray()
    more = True
    while more:
        try:
            message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
        except TimeoutError:
            raise _Refused(408, "body too slow") from None
        if message["type"] == "http.disconnect":
            raise _Gone
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            raise _Refused(413, "body too large")
        more = message.get("more_body", False)
    return bytes(body)


def make_app(handle: Handle = handle_push, *, handle_timeout: float = HANDLE_TIMEOUT,
             body_timeout: float = BODY_TIMEOUT) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The ASGI app: `handle(seller, shop_id, headers, body) -> (status, reply)` runs in a worker thread
    of its own pool, bounded by `handle_timeout`; a timeout or any exception is 503 {"error": "try again"}."""
    executor = ThreadPoolExecutor(THREADS, thread_name_prefix="push")

    async def answer(scope: Scope, receive: Receive, where: tuple[str, str] | None) -> tuple[int, Any]:
        if where is None:
            return 404, {"error": "not found"}
        if scope["method"] != "POST":
            return 405, {"error": "POST only"}
        if sum(len(name) + len(value) for name, value in scope["headers"]) > MAX_HEAD:
            return 431, {"error": "request head too large"}  # h11's cap holds for heads that arrive in pieces
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        try:
            _framing(headers)
            body = await _body(receive, body_timeout)
        except _Refused as refused:
            return refused.status, {"error": refused.error}
        headers[":path"] = "/webhooks/{}/{}".format(*where)  # SHEIN signs the callback path with the headers
        call = asyncio.get_running_loop().run_in_executor(executor, handle, *where, headers, body)
        try:
            status, reply = await asyncio.wait_for(call, handle_timeout)
            return (status, reply) if status in range(200, 600) else (503, {"error": "try again"})
        except Exception as exc:  # a slow or failing enqueue: the platform retries a 503
            log.error("ingress.handle_failed", seller=where[0], shop=where[1], error=type(exc).__name__)
            return 503, {"error": "try again"}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan is off and websockets are not served
            return
        started = time.perf_counter()
        where = route(scope["raw_path"])
        try:
            status, reply = await answer(scope, receive, where)
        except _Gone:
            status, reply = 0, None
        else:
            await _reply(send, status, reply)
        log.info("ingress.request", method=scope["method"][:16], seller=where and where[0],
                 shop=where and where[1], status=status, ms=round((time.perf_counter() - started) * 1000, 1))

    return app


async def _reply(send: Send, status: int, payload: Any) -> None:
    try:
        data = orjson.dumps(payload)
    except TypeError:
        status, data = 503, b'{"error":"try again"}'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    if status >= 400:  # whatever the client sent after this is not read as a request
        headers.append((b"connection", b"close"))
    if status == 405:
        headers.append((b"allow", b"POST"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class _HeadDeadline(H11Protocol):
    """uvicorn's h11 protocol plus a deadline for each request head, and a hard connection cap.

    uvicorn has no header read timeout: its keep-alive timer starts only after a response, so a client
    that opens a connection and sends a few header bytes (or none) holds it forever (slow-loris). Here a
    timer starts when the connection is made and again after each response; if h11 still waits for a
    request head when it fires, the connection is closed. Relies on H11Protocol's connection_made,
    data_received, on_response_complete and connection_lost, and on its `conn` (h11.Connection),
    `transport`, `loop`, `connections` and `limit_concurrency` attributes (uvicorn 0.30+).
    """

    header_timeout: float = HEADER_TIMEOUT
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.access_log = False  # never uvicorn's access line, whatever handlers a logger has: ingress.request
        if self.limit_concurrency is not None and len(self.connections) > self.limit_concurrency:
            transport.close()  # over the cap: not even a reply (uvicorn's 503 covers the one at the cap)
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the head is in (or refused): the body has its own timeout
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm()  # a kept-alive connection owes its next head within the same time

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_late)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def make_server(app: Any, *, max_connections: int = MAX_CONNECTIONS,
                header_timeout: float = HEADER_TIMEOUT) -> uvicorn.Server:
    protocol = type("IngressProtocol", (_HeadDeadline,), {"header_timeout": header_timeout})
    config = uvicorn.Config(
        app, http=protocol, ws="none", lifespan="off", interface="asgi3", proxy_headers=False,
        limit_concurrency=max_connections, backlog=BACKLOG, timeout_keep_alive=KEEP_ALIVE,
        h11_max_incomplete_event_size=MAX_HEAD, server_header=False, access_log=False,
        log_config=None,  # logging stays ours (structlog, redacted); ingress.request is the access log
        timeout_graceful_shutdown=5)
    return uvicorn.Server(config)


def listen_socket(host: str, port: int) -> socket.socket:
    """The bound socket (port 0: a free one); uvicorn calls listen() on it with BACKLOG. IPPROTO_TCP named,
    so asyncio sets TCP_NODELAY on each accepted connection (with proto 0 it does not, and Nagle holds a
    reply's body for the client's delayed ACK: 40 ms per kept-alive request)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def bound_publishing() -> None:
    """Make this process's Celery publishes fail fast instead of hanging on a stalled Redis.

    The workers' broker settings (workers/app.py) wait 10 s on a socket, retry a timeout once (redis-py),
    and Celery retries a publish 3 times: a SIGSTOPped Redis held a push 75 s. The ingress only publishes,
    so here a publish gets REDIS_TIMEOUT to connect and per reply, no timeout retry, and one publish retry
    (a connection left stale by a Redis restart reconnects): a hung Redis frees the thread within ~4 s,
    the reply (503) having gone at HANDLE_TIMEOUT. Called before the first publish (Celery reads these
    settings when it first publishes)."""
    from workers.app import app as celery_app

    conf = celery_app.conf
    conf.broker_transport_options = {**conf.broker_transport_options, "socket_timeout": REDIS_TIMEOUT,
                                     "socket_connect_timeout": REDIS_TIMEOUT, "retry_on_timeout": False}
    conf.task_publish_retry_policy = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1,
                                      "interval_max": 0.1}


def serve(host: str = "127.0.0.1", port: int = 8080, *, max_connections: int = MAX_CONNECTIONS,
          header_timeout: float = HEADER_TIMEOUT, announce: Callable[[int], None] | None = None) -> None:
    """`orderhub webhooks serve`: the real handle_push until SIGINT/SIGTERM; `announce(port)` once bound."""
    bound_publishing()
    handle = partial(handle_push, redis=get_redis(timeout=REDIS_TIMEOUT))  # replay memory: fail fast too
    sock = listen_socket(host, port)
    if announce is not None:
        announce(sock.getsockname()[1])
    app = make_app(handle)
    make_server(app, max_connections=max_connections, header_timeout=header_timeout).run(sockets=[sock])


@dataclass
class Running:
    server: uvicorn.Server
    thread: threading.Thread
    port: int

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def serve_in_thread(app: Any, host: str = "127.0.0.1", port: int = 0, **limits: Any) -> Running:
    """For tests and benchmarks: uvicorn in a daemon thread on a free loopback port, up when this returns."""
    sock = listen_socket(host, port)
    server = make_server(app, **limits)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="ingress", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the ingress did not start")
        time.sleep(0.02)
    return Running(server, thread, sock.getsockname()[1])
