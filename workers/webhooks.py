"""`orderhub webhooks serve`: receive platform pushes, verify them, enqueue a targeted fetch.

A push only says "order X changed"; the order itself is always fetched through the API, so a forged
push can at most cause one harmless fetch, and a bad signature is refused with 401 before anything
is stored or enqueued. Polling remains the safety net for pushes that never arrive.
URL: POST /webhooks/{seller}/{shop_id}
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import structlog

from config.loader import credentials_for
from connectors.registry import get_connector
from workers.config_cache import seller_config
from workers.tasks import fetch_order

log = structlog.get_logger()

MAX_BODY = 1 << 20

Enqueue = Callable[[str, str, str], None]


def _default_enqueue(seller: str, shop_id: str, external_id: str) -> None:
    fetch_order.apply_async((seller, shop_id, external_id), queue="ingest")


def handle_push(seller: str, shop_id: str, headers: dict[str, str], body: bytes,
                enqueue: Enqueue = _default_enqueue) -> tuple[int, Any]:
    """Status code and reply for one push; enqueues one fetch per order it names when it verifies."""
    try:
        cfg = seller_config(seller)
        shop = cfg.shop(shop_id)
    except KeyError:
        return 404, {"error": "unknown seller or shop"}
    receiver = get_connector(shop.platform).capabilities.webhooks
    if receiver is None or not shop.webhook:
        return 404, {"error": "webhooks not enabled for this shop"}
    secrets = credentials_for(cfg, shop.credentials, f"shops[{shop_id}].credentials")
    order_ids = receiver.order_ids(secrets, headers, body)
    bound = log.bind(seller=seller, platform=shop.platform, shop=shop_id)
    if order_ids is None:
        bound.warning("webhook.rejected", reason="signature does not verify", size=len(body))
        return 401, {"error": "signature does not verify"}
    for external_id in order_ids:
        enqueue(seller, shop_id, external_id)
    bound.info("webhook.accepted", orders=len(order_ids))
    return 200, receiver.ok_reply  # what the platform expects back


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    enqueue: Enqueue = staticmethod(_default_enqueue)

    def do_POST(self) -> None:
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        length = int(self.headers.get("Content-Length") or 0)
        if len(parts) != 3 or parts[0] != "webhooks" or length > MAX_BODY:
            self._reply(404 if length <= MAX_BODY else 413, {"error": "not found"})
            return
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        headers[":path"] = "/" + "/".join(parts)  # SHEIN signs the callback path as well as the headers
        try:
            status, reply = handle_push(parts[1], parts[2], headers, body, type(self).enqueue)
        except Exception as exc:  # never leak a traceback to the caller; the platform will retry
            log.error("webhook.failed", error=type(exc).__name__)
            status, reply = 500, {"error": "internal error"}
        self._reply(status, reply)

    def _reply(self, status: int, payload: Any) -> None:
        data = orjson.dumps(payload)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # request lines go through structlog instead
        return


def make_server(host: str = "127.0.0.1", port: int = 8080, enqueue: Enqueue | None = None) -> ThreadingHTTPServer:
    handler = type("WebhookHandler", (_Handler,), {"enqueue": staticmethod(enqueue or _default_enqueue)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="webhooks", daemon=True)
    thread.start()
    return thread
