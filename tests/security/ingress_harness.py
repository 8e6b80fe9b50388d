"""What the ingress tests share: raw-socket HTTP, signed TikTok pushes, and `orderhub webhooks serve` as
a process of its own (its memory measured from /proc, its Redis and config its own)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import tomllib
import uuid
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from sandbox.core.demo_accounts import DEMO_SECRETS_PATH
from sandbox.tiktok.webhook import build_webhook, order_status_payload
from tests.processes import stop_process

SECRETS = DEMO_SECRETS_PATH.resolve()
DEMO_TIKTOK = tomllib.loads(SECRETS.read_text())["tiktok-demo-us"]
TIKTOK_SHOP = DEMO_TIKTOK["shop_id"]  # the demo account's platform shop id, which its pushes name
SHOP = "acme-tiktok-us"
PATH = f"/webhooks/acme/{SHOP}"

SELLER_FILE = f"""
seller = "acme"
[[shops]]
platform = "tiktok"
shop_id = "{SHOP}"
region = "US"
base_url = "sandbox"
webhook = true
options = {{ platform_shop_id = "{TIKTOK_SHOP}" }}
[shops.credentials]
app_key = "file:{SECRETS}#tiktok-demo-us.app_key"
app_secret = "file:{SECRETS}#tiktok-demo-us.app_secret"
refresh_token = "file:{SECRETS}#tiktok-demo-us.refresh_token"
shop_id = "file:{SECRETS}#tiktok-demo-us.shop_id"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def signed_push(order_id: str | None = None) -> tuple[bytes, dict[str, str]]:
    """A genuine TikTok order-status push, signed now, with a fresh notification id and order id."""
    order_id = order_id or str(uuid.uuid4().int)[:18]
    now = int(time.time())
    payload = order_status_payload(TIKTOK_SHOP, order_id, "AWAITING_SHIPMENT", now, now)
    payload["tts_notification_id"] = str(uuid.uuid4().int)[:19]
    return build_webhook(DEMO_TIKTOK["app_key"], DEMO_TIKTOK["app_secret"], payload)


def request_bytes(body: bytes, headers: dict[str, str], path: str = PATH, chunk: int | None = None) -> bytes:
    """One HTTP/1.1 POST as bytes: with Content-Length, or chunked in pieces of `chunk` bytes."""
    head = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1"] + [f"{k}: {v}" for k, v in headers.items()]
    if chunk is None:
        return ("\r\n".join(head + [f"Content-Length: {len(body)}", "", ""])).encode() + body
    pieces = [body[i:i + chunk] for i in range(0, len(body), chunk)]
    encoded = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
    return ("\r\n".join(head + ["Transfer-Encoding: chunked", "", ""])).encode() + encoded


def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, bool]:
    """Everything the server sends within `timeout`, and whether it closed the connection (FIN or reset)."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return data, False
        except (ConnectionResetError, BrokenPipeError):
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def exchange(port: int, data: bytes, timeout: float = 5.0) -> tuple[bytes, bool]:
    """Send raw bytes on a fresh connection; (what came back, whether the server closed it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with suppress(ConnectionResetError, BrokenPipeError):  # closed mid-send: its answer is still readable
            sock.sendall(data)
        return read_until_closed(sock, timeout)


def statuses(data: bytes) -> list[int]:
    """The status code of every response in `data` (a second one would mean a second request was parsed)."""
    return [int(code) for code in re.findall(rb"HTTP/1\.[01] (\d{3}) ", data)]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass
class IngressProcess:
    """`orderhub webhooks serve` on a free loopback port with the environment given; logs to a file."""

    proc: subprocess.Popen
    port: int
    log_path: Path

    @classmethod
    def start(cls, env: dict[str, str], log_dir: Path, *args: str) -> IngressProcess:
        port = free_port()
        log_path = log_dir / f"ingress-{port}.log"
        cli = str(Path(sys.executable).parent / "orderhub")
        with log_path.open("wb") as log:
            proc = subprocess.Popen([cli, "webhooks", "serve", "--port", str(port), *args], env=env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        running = cls(proc, port, log_path)
        deadline = time.monotonic() + 60  # importing the CLI takes seconds on a loaded machine
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return running
            except OSError:
                time.sleep(0.1)
        running.stop()
        raise RuntimeError(f"the ingress did not come up: {log_path.read_text(errors='replace')[-2000:]}")

    def rss_mb(self) -> float:
        return rss_mb(self.proc.pid)

    def stop(self) -> None:
        stop_process(self.proc)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def ingress_env(redis_url: str, config_dir: Path, prefix: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(REDIS_URL=redis_url, ORDERHUB_CONFIG=str(config_dir), ORDERHUB_PREFIX=prefix, LOG_FORMAT="json",
               ORDERHUB_HOME=str(config_dir.parent / "home"))
    return env


def seller_config_dir(root: Path) -> Path:
    folder = root / "sellers"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "acme.toml").write_text(SELLER_FILE)
    return folder
