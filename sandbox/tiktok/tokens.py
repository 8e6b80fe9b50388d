"""The TikTok emulator's token side: the refresh call that mints access tokens and the shops a grant opens.

A token is a ``TikTokGrant`` (the shops it opens, the seller's open_id, its expiry on the sandbox clock);
``refresh`` answers expiry times as the real unix time a client reaches them. The emulator keeps the
per-call check of signature, token and shop cipher; these handlers name what they use of it with a
Protocol, as ``push`` does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sandbox.core.buckets import CallCounters
from sandbox.core.demo_accounts import TikTokCredentials
from sandbox.core.generator import stable_digits
from sandbox.core.http_types import Request, Response
from sandbox.core.server import EmulatorState
from sandbox.tiktok.shapes import envelope, param_error

E_APP_KEY = (36009004, "Invalid credentials. Invalid `app_key` query parameter.")


@dataclass(frozen=True)
class TikTokGrant:
    shop_ids: tuple[str, ...]
    open_id: str
    expires_at: datetime


class TikTokTokenIssuer(EmulatorState, Protocol):
    """What these handlers use of ``TikTokEmulator`` (it satisfies this; importing it here would be a cycle)."""

    shops: dict[str, TikTokCredentials]
    grants: dict[str, TikTokGrant]
    counters: CallCounters

    def error(self, failure: tuple[int, str], data: Any = None) -> Response: ...
    def issue_access_token(self, shop_id: str) -> str: ...


def open_id(shop_id: str) -> str:
    return "70107" + stable_digits("tt-open-id", shop_id, length=14)


def refresh(emu: TikTokTokenIssuer, request: Request) -> Response:
    if request.arg("grant_type") != "refresh_token":
        return _auth_failure(emu, param_error("grant_type", "unsupported grant type", "refresh_token"))
    shop = next((s for s in emu.shops.values() if s.refresh_token == request.arg("refresh_token")), None)
    apps = {(s.app_key, s.app_secret) for s in emu.shops.values()}
    if (request.arg("app_key"), request.arg("app_secret")) not in apps:
        return _auth_failure(emu, emu.error(E_APP_KEY))
    if shop is None or shop.app_key != request.arg("app_key"):
        return _auth_failure(emu, emu.error((36004004, "Invalid refresh token.")))
    token = emu.issue_access_token(shop.shop_id)
    now = emu.clock.now()
    return envelope({
        "access_token": token, "access_token_expire_in": _wall_unix(emu, emu.grants[token].expires_at),
        "refresh_token": shop.refresh_token, "refresh_token_expire_in": _wall_unix(emu, now + timedelta(days=365)),
        "open_id": open_id(shop.shop_id), "seller_name": shop.shop_name,
        "seller_base_region": shop.region, "user_type": 0,
        "granted_scopes": ["seller.order.info", "seller.fulfillment.basic", "seller.product.basic"],
    }, message="success", now=now)


def _wall_unix(emu: TikTokTokenIssuer, moment: datetime) -> int:
    """A sandbox instant as the real unix time a client reaches it. Clients compare token expiry with
    their own clock; against a sandbox clock set in the past every token would look expired already
    and be refreshed before each call."""
    ahead = (moment - emu.clock.now()).total_seconds()
    factor = emu.clock.factor
    return int(time.time() + (ahead / factor if factor > 0 else ahead))


def _auth_failure(emu: TikTokTokenIssuer, response: Response) -> Response:
    emu.counters.add("refreshToken", "auth_failures")
    return response


def authorized_shops(emu: TikTokTokenIssuer, request: Request) -> Response:
    grant: TikTokGrant = request.caller.grant
    shops = [{"id": s.shop_id, "name": s.shop_name, "region": s.region, "seller_type": "LOCAL",
              "cipher": s.shop_cipher, "code": f"{s.region}LCODEMO{s.shop_id[-3:]}"}
             for sid in grant.shop_ids if (s := emu.shops.get(sid))]
    return envelope({"shops": shops}, now=emu.clock.now())
