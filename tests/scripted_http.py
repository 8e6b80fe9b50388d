"""A scripted HTTP/1.1 server on loopback, for tests that need a platform or warehouse API to answer.

Why a real server rather than a mock of the HTTP library: a mock such as `responses` patches requests'
HTTPAdapter, so it tests nothing once the transport talks to urllib3 (or anything else) directly, and
it never exercises the socket, keep-alive, Content-Length or a connection that dies. This server sits
behind a real socket on 127.0.0.1 (house rule: test APIs are loopback servers, never another address),
so a test passes or fails the same whichever HTTP client the transport uses.

The API is close to `responses`, which these tests were written against:

    server.post("/router/api/service", json={...})            # or a full URL: only its path is used
    server.get(path, status=429, headers={"retry-after": "0"}, json={...})
    server.put(path, body=b"raw")                             # also .patch, .delete, .add(method, ...)
    server.post(path, drop=True)       # read the request, then close without a byte: "no answer"
    server.get(path, delay=5, json=..) # answer only after 5 s: a read timeout for a shorter client
    server.calls[i].request.{method,url,path,body,headers}, server.calls[i].response.status_code

Replies registered for one (method, path) are served in registration order, the last one repeating
(as `responses` does). The query string is ignored when matching, kept in `request.url`. A request
nothing matches is answered 404 with a body saying so, and recorded with `matched=False`; the
`http_server` fixture (tests/conftest.py) fails the test at teardown when any request went unmatched.
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

_UNSET: Any = object()


class Headers(Mapping[str, str]):
    """Header names looked up case-insensitively (as requests' CaseInsensitiveDict); repeats joined by ", "."""

    def __init__(self, items: Iterator[tuple[str, str]] | list[tuple[str, str]] = ()) -> None:
        self._items: dict[str, tuple[str, str]] = {}
        for name, value in items:
            known = self._items.get(name.lower())
            self._items[name.lower()] = (name, f"{known[1]}, {value}" if known else value)

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


@dataclass(frozen=True)
class Reply:
    """One scripted answer. `drop`: close the connection without answering; `delay`: seconds to wait first."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    drop: bool = False
    delay: float = 0.0


@dataclass(frozen=True)
class Request:
    method: str
    url: str  # full URL, query string included
    path: str  # without the query string
    headers: Headers
    body: bytes | None  # None when the request carried no body at all (as requests' PreparedRequest)
    client_port: int = 0  # the caller's end of the connection: one port, one kept-alive connection


@dataclass(frozen=True)
class Response:
    status_code: int
    headers: Headers
    body: bytes

    def json(self) -> Any:
        return jsonlib.loads(self.body)


@dataclass(frozen=True)
class Call:
    request: Request
    response: Response | None  # None: the connection was closed without an answer (a `drop` reply)
    matched: bool = True


@dataclass
class _Script:
    replies: list[Reply] = field(default_factory=list)
    served: int = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a pooled client expects
    disable_nagle_algorithm = True  # headers and body go in two writes: else ~40 ms of delayed ACK each
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.owner._opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._closed(self.connection)

    def _serve(self) -> None:
        self.server.owner._answer(self, self._read_body())

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _read_body(self) -> bytes | None:
        if self.headers.get("Content-Length") is not None:
            return self.rfile.read(int(self.headers["Content-Length"]))
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return b"".join(chunks)
        return None

    def log_message(self, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: ScriptedHTTPServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (timed out, closed) mid-answer is what some tests script: not an error."""


class ScriptedHTTPServer:
    """Answers each request with the next reply scripted for its (method, path); see the module doc."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[tuple[str, str], _Script] = {}
        self._calls: list[Call] = []
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="scripted-http", daemon=True)
        self._thread.start()

    # -- scripting -------------------------------------------------------------------------------------

    def add(self, method: str, path_or_url: str, *, json: Any = _UNSET, body: bytes | str = b"",
            status: int = 200, headers: Mapping[str, str] | None = None, content_type: str | None = None,
            drop: bool = False, delay: float = 0.0) -> None:
        """Script one more reply for `method` on the path of `path_or_url` (its query string ignored)."""
        sent = dict(headers or {})
        if json is not _UNSET:
            body = jsonlib.dumps(json).encode()
            content_type = content_type or "application/json"
        if content_type and not any(k.lower() == "content-type" for k in sent):
            sent["Content-Type"] = content_type
        reply = Reply(status, tuple(sent.items()), body.encode() if isinstance(body, str) else body, drop, delay)
        with self._lock:
            self._scripts.setdefault((method.upper(), _path(path_or_url)), _Script()).replies.append(reply)

    def get(self, path_or_url: str, **reply: Any) -> None:
        self.add("GET", path_or_url, **reply)

    def post(self, path_or_url: str, **reply: Any) -> None:
        self.add("POST", path_or_url, **reply)

    def put(self, path_or_url: str, **reply: Any) -> None:
        self.add("PUT", path_or_url, **reply)

    def patch(self, path_or_url: str, **reply: Any) -> None:
        self.add("PATCH", path_or_url, **reply)

    def delete(self, path_or_url: str, **reply: Any) -> None:
        self.add("DELETE", path_or_url, **reply)

    # -- what happened ---------------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every request received, in arrival order (a snapshot), unmatched ones included."""
        with self._lock:
            return list(self._calls)

    @property
    def unmatched(self) -> list[Call]:
        return [call for call in self.calls if not call.matched]

    def assert_all_fired(self) -> None:
        """Every scripted reply was served at least once (`responses`' assert_all_requests_are_fired)."""
        with self._lock:
            unused = [f"{method} {path} reply #{i + 1} of {len(script.replies)}"
                      for (method, path), script in self._scripts.items()
                      for i in range(script.served, len(script.replies))]
        assert not unused, f"scripted replies never requested: {unused}"

    def assert_no_unmatched(self) -> None:
        missed = [f"{call.request.method} {call.request.url}" for call in self.unmatched]
        assert not missed, f"requests nothing was scripted for (answered 404): {missed}"

    # -- serving ---------------------------------------------------------------------------------------

    def _next(self, method: str, path: str) -> Reply | None:
        with self._lock:
            script = self._scripts.get((method, path))
            if script is None:
                return None
            script.served += 1
            return script.replies[min(script.served, len(script.replies)) - 1]

    def _answer(self, handler: _Handler, body: bytes | None) -> None:
        target = handler.path if handler.path.startswith(("http://", "https://")) else self.url + handler.path
        path = _path(target)
        request = Request(handler.command, target, path, Headers(handler.headers.items()), body,
                          handler.client_address[1])
        reply = self._next(handler.command, path)
        matched = reply is not None
        if reply is None:
            with self._lock:
                known = sorted(f"{m} {p}" for m, p in self._scripts)
            reply = Reply(404, (("Content-Type", "text/plain"),),
                          f"scripted_http: nothing scripted for {handler.command} {path}; scripted: {known}".encode())
        response = None if reply.drop else Response(reply.status, Headers(list(reply.headers)), reply.body)
        with self._lock:  # recorded before answering: a client that has its answer sees its call recorded
            self._calls.append(Call(request, response, matched))
        if reply.drop:
            handler.close_connection = True
            return
        if reply.delay and self._stopping.wait(reply.delay):
            handler.close_connection = True
            return
        handler.send_response(reply.status)
        for name, value in reply.headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(reply.body)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(reply.body)

    def _opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def _closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    # -- lifetime --------------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop serving, cut every open keep-alive connection (their threads block reading) and any wait."""
        self._stopping.set()
        self._server.shutdown()
        with self._lock:
            open_now = list(self._connections)
        for connection in open_now:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedHTTPServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _path(path_or_url: str) -> str:
    return urlsplit(path_or_url).path or "/"
