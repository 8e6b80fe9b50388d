"""The emulator base: a real HTTP/1.1 server on loopback with a small routing table.

A platform emulator subclasses ``Emulator``, declares its endpoints with ``self.route(...)`` and
fills in four hooks (authenticate, throttled, server_error, not_found). The base owns the
sandbox clock, the order book, rate limiting, counters, push records and fault injection, and
mounts the ``/_sandbox/`` control API (see ``sandbox.core.control``) on every emulator.
"""

from __future__ import annotations

import abc
import contextlib
import socket
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Protocol, Self
from urllib.parse import parse_qs, urlsplit

from sandbox.core.buckets import CallCounters, RateLimit, RateLimiter
from sandbox.core.clock import SandboxClock
from sandbox.core.control import mount_control_api
from sandbox.core.faults import FaultInjector, RequestFault
from sandbox.core.generator import GeneratorSettings, generate_orders
from sandbox.core.http_types import DROP, Handler, Request, Response, Route
from sandbox.core.orders import GeneratedOrder


class EmulatorState(Protocol):
    """What a platform's push and webhook modules use of the ``Emulator`` base: clock, lock, order book and
    push record. Each of those modules extends it with its own platform's parts and types its emulator
    argument with that, instead of importing the emulator class (which imports the module: a cycle)."""

    clock: SandboxClock
    lock: threading.RLock
    orders: dict[str, GeneratedOrder]

    def record_push(self, kind: str, account: str, accepted: bool, content: Mapping[str, Any],
                    issues: Iterable[Any] = ()) -> dict[str, Any]: ...


class Emulator(abc.ABC):
    """Base of every platform emulator: start(), .url, stop(), usable as a context manager."""

    platform: ClassVar[str] = "generic"
    default_rate_limits: ClassVar[Mapping[str, RateLimit]] = {}

    def __init__(self, *, clock: SandboxClock | None = None, seed: int = 1, orders: int = 0,
                 rate_limits: Mapping[str, RateLimit] | None = None, host: str = "127.0.0.1",
                 port: int = 0, generator: GeneratorSettings | None = None) -> None:
        self.clock = clock or SandboxClock()
        self.lock = threading.RLock()
        self.faults = FaultInjector()
        self.counters = CallCounters()
        self.limiter = RateLimiter(self.clock, {**self.default_rate_limits, **(rate_limits or {})})
        self.generator_settings = generator or GeneratorSettings()
        self.orders: dict[str, GeneratedOrder] = {}  # platform order id -> order
        self.pushes: list[dict[str, Any]] = []
        self.routes: list[Route] = []
        self.host, self.port = host, port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        mount_control_api(self)
        self.seed(count=orders, seed=seed)

    # --- declaring endpoints -------------------------------------------------------------------
    def route(self, method: str, template: str, operation: str, handler: Handler, *,
              auth: bool = True, control: bool = False) -> None:
        self.routes.append(Route(method, template, operation, handler, auth, control))

    # --- hooks for platforms -------------------------------------------------------------------
    @abc.abstractmethod
    def countries(self) -> tuple[str, ...]:
        """Buyer countries this emulator's shops sell to (the generator's ``countries``)."""

    @abc.abstractmethod
    def assign(self, order: GeneratedOrder) -> str:
        """Attach a generated order to one of the emulator's accounts; return its platform id."""

    @abc.abstractmethod
    def authenticate(self, request: Request, route: Route) -> Response | str:
        """Check credentials; return the account key the call is metered under, or a rejection."""

    @abc.abstractmethod
    def throttled(self, request: Request, route: Route, retry_after: float) -> Response:
        """The platform's own answer when a bucket is empty (status, body and headers)."""

    def server_error(self, request: Request, status: int) -> Response:
        return Response.json(status, {"message": "internal error"})

    def not_found(self, request: Request) -> Response:
        return Response.json(404, {"message": "no such endpoint"})

    def finish(self, request: Request, route: Route | None, response: Response) -> Response:
        """Last touch on every answer (platform headers)."""
        return response

    def order_summary(self, order_id: str, order: GeneratedOrder, now: datetime) -> dict[str, Any]:
        """Ground-truth line for ``GET /_sandbox/orders`` in platform terms."""
        state = order.state(now)
        return {"id": order_id, "account": order.account, "status": state.status.value,
                "updated_at": state.updated_at.isoformat()}

    # --- sandbox controls, also exposed over HTTP ----------------------------------------------
    def seed(self, count: int, seed: int = 1, anchor: datetime | None = None) -> None:
        """Replace the order book with ``count`` generated orders spread around ``anchor``.

        The anchor defaults to the clock's start, so reseeding with the same seed gives the same
        orders even after the clock has moved; pass ``clock.now()`` to build a fresh world around now.
        """
        anchor = anchor or self.clock.start
        generated = generate_orders(seed, count, anchor, self.countries(), self.generator_settings)
        with self.lock:
            self.orders = {self.assign(order): order for order in generated}
            self.seed_value, self.order_count = seed, count

    def configure_faults(self, **knobs: Any) -> dict[str, Any]:
        self.faults.configure(**knobs)
        return self.faults.as_dict()

    def record_push(self, kind: str, account: str, accepted: bool, content: Mapping[str, Any],
                    issues: Iterable[Any] = ()) -> dict[str, Any]:
        record = {"platform": self.platform, "kind": kind, "account": account, "accepted": accepted,
                  "at": self.clock.now().isoformat(), "content": dict(content), "issues": list(issues)}
        with self.lock:
            self.pushes.append(record)
        return record

    def pushed(self, kind: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(p) for p in self.pushes if kind is None or p["kind"] == kind]

    def ground_truth(self) -> list[dict[str, Any]]:
        """Every order visible now with its latest update time and status, sorted by update."""
        now = self.clock.now()
        with self.lock:
            rows = [self.order_summary(oid, o, now) for oid, o in self.orders.items() if o.visible(now)]
        return sorted(rows, key=lambda r: (r["updated_at"], r["id"]))

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping.clear()
        self._server = _Server((self.host, self.port), _RequestHandler, self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"sandbox-{self.platform}", daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{self.platform} emulator is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # wakes handlers that hold a response for a timeout fault
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- dispatch ------------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        route = self._match(request)
        if route is None:
            return self.finish(request, None, self.not_found(request))
        if route.control:
            return route.handler(request)
        op = route.operation
        self.counters.add(op, "calls")
        plan = self.faults.plan(op)
        if plan.delay_seconds and self._stopping.wait(plan.delay_seconds):
            return DROP
        if plan.fault is RequestFault.HANGUP:
            self.counters.add(op, "injected")
            return DROP
        if plan.fault is RequestFault.ERROR:
            self.counters.add(op, "injected")
            self.counters.add(op, "errors")
            return self.finish(request, route, self.server_error(request, plan.error_status))
        with self.lock:
            response = self._guarded(request, route, forced_throttle=plan.fault is RequestFault.THROTTLE)
        if plan.drop_response:
            self.counters.add(op, "injected")
            return DROP
        return self.finish(request, route, response)

    def _guarded(self, request: Request, route: Route, forced_throttle: bool) -> Response:
        op = route.operation
        account = "-"
        if route.auth:
            verdict = self.authenticate(request, route)
            if isinstance(verdict, Response):
                self.counters.add(op, "auth_failures")
                return verdict
            account = verdict
        decision = self.limiter.take(account, op)
        if forced_throttle or not decision.allowed:
            self.counters.add(op, "throttled")
            if forced_throttle:
                self.counters.add(op, "injected")
            return self.throttled(request, route, max(decision.retry_after, 1.0))
        request.caller = request.caller if request.caller is not None else account
        return route.handler(request)

    def _match(self, request: Request) -> Route | None:
        for route in self.routes:
            if route.method != request.method:
                continue
            found = route.pattern.match(request.path)
            if found:
                request.params = found.groupdict()
                return route
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler],
                 emulator: Emulator) -> None:
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conn_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Close idle keep-alive connections so their handler threads end with the server."""
        with self._conn_lock:
            connections, self._connections = list(self._connections), set()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-answer is normal under fault injection


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # without it keep-alive requests wait ~40 ms for delayed ACKs
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, split.path, parse_qs(split.query, keep_blank_values=True),
                          self.headers, body)
        try:
            response = self.server.emulator.dispatch(request)
        except Exception as exc:  # an emulator bug must still answer, and say what broke
            response = Response.json(500, {"sandbox_error": f"{type(exc).__name__}: {exc}"})
        if response is DROP:
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status not in (204, 304):
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.status not in (204, 304) and self.command != "HEAD":
            self.wfile.write(response.body)
