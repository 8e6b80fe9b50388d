"""Fixtures for the sandbox tests: emulators on a frozen clock and small clients written here.

The clients are deliberately independent of connectors/: their own LWA call and their own TikTok
signing code, so an emulator bug and a client bug cannot hide behind the same mistake.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from orderhub.runtime.logs import register_secret
from sandbox import AmazonEmulator, SandboxClock, TikTokEmulator
from sandbox.core.demo_accounts import AMAZON_DEMO_ACCOUNTS, TIKTOK_DEMO_SHOPS, load_demo_secrets

START = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)
US_MARKETPLACE = "ATVPDKIKX0DER"

# A client registers its credentials so nothing it logs carries them: urllib3 logs every URL at
# DEBUG, and TikTok puts app_key and shop_cipher (and the refresh call even app_secret) in the URL.
for _table in load_demo_secrets().values():
    for _value in _table.values():
        if isinstance(_value, str) and len(_value) >= 8:
            register_secret(_value)


@pytest.fixture
def clock() -> SandboxClock:
    return SandboxClock(start=START, factor=0)  # frozen: only advance() moves time


@pytest.fixture
def amazon(clock: SandboxClock) -> Iterator[AmazonEmulator]:
    with AmazonEmulator(clock=clock, orders=300, seed=7) as emulator:
        yield emulator


@pytest.fixture
def tiktok(clock: SandboxClock) -> Iterator[TikTokEmulator]:
    with TikTokEmulator(clock=clock, orders=300, seed=7) as emulator:
        yield emulator


class AmazonClient:
    """Just enough SP-API client: LWA refresh, then calls with x-amz-access-token."""

    def __init__(self, emulator: AmazonEmulator, account: int = 0) -> None:
        self.emulator, self.creds = emulator, AMAZON_DEMO_ACCOUNTS[account]
        self.http = requests.Session()
        self.token = self.login()

    def login(self) -> str:
        reply = self.http.post(self.emulator.url + "/auth/o2/token", data={
            "grant_type": "refresh_token", "refresh_token": self.creds.refresh_token,
            "client_id": self.creds.client_id, "client_secret": self.creds.client_secret})
        assert reply.status_code == 200, reply.text
        return reply.json()["access_token"]

    def get(self, path: str, token: str | None = None, **params: Any) -> requests.Response:
        return self.http.get(self.emulator.url + path, params=params,
                             headers={"x-amz-access-token": token or self.token})

    def send(self, method: str, path: str, body: Any, token: str | None = None, **params: Any) -> requests.Response:
        return self.http.request(method, self.emulator.url + path, params=params, json=body,
                                 headers={"x-amz-access-token": token or self.token})


def tiktok_signature(path: str, params: dict[str, str], body: str, secret: str) -> str:
    """docs/platforms/tiktok.md, written from the text: sorted key+value after the path, body, secret wrap."""
    pieces = [path]
    for key in sorted(params):
        if key not in ("sign", "access_token"):
            pieces.append(f"{key}{params[key]}")
    plain = secret + "".join(pieces) + body + secret
    return hmac.new(secret.encode("utf-8"), plain.encode("utf-8"), hashlib.sha256).hexdigest()


class TikTokClient:
    """Just enough TikTok Shop client: refresh, sign, call."""

    def __init__(self, emulator: TikTokEmulator, shop: int = 0) -> None:
        self.emulator, self.shop = emulator, TIKTOK_DEMO_SHOPS[shop]
        self.http = requests.Session()
        reply = self.http.get(emulator.url + "/api/v2/token/refresh", params={
            "app_key": self.shop.app_key, "app_secret": self.shop.app_secret,
            "refresh_token": self.shop.refresh_token, "grant_type": "refresh_token"}).json()
        assert reply["code"] == 0, reply
        self.token = reply["data"]["access_token"]

    def call(self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None, *,
             with_shop: bool = True, secret: str | None = None, token: str | None = None,
             timestamp: int | None = None) -> requests.Response:
        query = {"app_key": self.shop.app_key,
                 "timestamp": str(int(time.time()) if timestamp is None else timestamp)}
        if with_shop:
            query["shop_cipher"] = self.shop.shop_cipher
        query.update({k: str(v) for k, v in (params or {}).items()})
        raw = "" if body is None else json.dumps(body)
        query["sign"] = tiktok_signature(path, query, raw if method != "GET" else "", secret or self.shop.app_secret)
        return self.http.request(method, self.emulator.url + path, params=query,
                                 data=raw.encode() if method != "GET" else None,
                                 headers={"x-tts-access-token": token or self.token,
                                          "content-type": "application/json"})

    def search(self, page_size: int = 50, body: dict[str, Any] | None = None, **params: Any) -> dict[str, Any]:
        reply = self.call("POST", "/order/202309/orders/search", {"page_size": page_size, **params}, body or {})
        assert reply.status_code == 200, reply.text
        return reply.json()


def wait_until(predicate: Any, timeout: float = 2.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False
