"""The Amazon emulator's token side: LWA access tokens, Restricted Data Tokens and the ``Grant`` of each.

LWA (``/auth/o2/token``) trades a refresh token for an access token; ``createRestrictedDataToken`` issues
an RDT that opens only the restricted resources it lists, with the data elements asked for (refused unless
the seller has ``pii_access``). The emulator checks the token on every call; these handlers name what
they use of it with a Protocol, as ``push`` does.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import parse_qs

from sandbox.amazon.shapes import errors, invalid
from sandbox.core.buckets import CallCounters
from sandbox.core.demo_accounts import AmazonCredentials
from sandbox.core.http_types import Request, Response
from sandbox.core.server import EmulatorState

# Restricted operations an RDT can open, and the data elements each accepts.
RESTRICTED = {
    "/orders/v0/orders": ("getOrders", {"buyerInfo", "shippingAddress", "buyerTaxInformation"}),
    "/orders/v0/orders/{orderId}": ("getOrder", {"buyerInfo", "shippingAddress", "buyerTaxInformation"}),
    "/orders/v0/orders/{orderId}/address": ("getOrderAddress", set()),
    "/orders/v0/orders/{orderId}/orderItems": ("getOrderItems", {"buyerInfo"}),
}


@dataclass(frozen=True)
class Grant:
    """What a bearer token opens: an LWA access token, or an RDT for listed resources."""

    seller_id: str
    expires_at: datetime
    resources: tuple[tuple[str, frozenset[str]], ...] = ()  # (path template or literal, elements)

    @property
    def restricted(self) -> bool:
        return bool(self.resources)

    def elements_for(self, path: str) -> frozenset[str] | None:
        for template, elements in self.resources:
            if _path_matches(template, path):
                return elements
        return None


class AmazonTokenIssuer(EmulatorState, Protocol):
    """What these handlers use of ``AmazonEmulator`` (it satisfies this; importing it here would be a cycle)."""

    accounts: dict[str, AmazonCredentials]
    grants: dict[str, Grant]
    counters: CallCounters
    token_lifetime: int
    rdt_lifetime: int

    def issue_access_token(self, seller_id: str) -> str: ...


def lwa_token(emu: AmazonTokenIssuer, request: Request) -> Response:
    form = {k: v[0] for k, v in _form(request.body).items()}
    headers = {"Content-Type": "application/json;charset=UTF-8"}
    if form.get("grant_type") != "refresh_token":
        return _lwa_error(emu, 400, "unsupported_grant_type",
                          "The authorization grant type is not supported by the authorization server")
    for name in ("refresh_token", "client_id", "client_secret"):
        if not form.get(name):
            return _lwa_error(emu, 400, "invalid_request", f"The request is missing a required parameter : {name}")
    apps = {(a.client_id, a.client_secret) for a in emu.accounts.values()}
    if (form["client_id"], form["client_secret"]) not in apps:
        return _lwa_error(emu, 401, "invalid_client", "Client authentication failed")
    account = next((a for a in emu.accounts.values() if a.refresh_token == form["refresh_token"]
                    and a.client_id == form["client_id"]), None)
    if account is None:
        return _lwa_error(emu, 400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
    token = emu.issue_access_token(account.seller_id)
    return Response.json(200, {"access_token": token, "refresh_token": account.refresh_token,
                               "token_type": "bearer", "expires_in": emu.token_lifetime}, headers)


def _lwa_error(emu: AmazonTokenIssuer, status: int, error: str, description: str) -> Response:
    emu.counters.add("lwaToken", "auth_failures")
    return Response.json(status, {"error_description": description, "error": error})


def restricted_data_token(emu: AmazonTokenIssuer, request: Request) -> Response:
    grant: Grant = request.caller  # never an RDT: authenticate() keeps RDTs to restricted paths
    try:
        body = request.json()
    except ValueError:
        return invalid("The request body is not valid JSON.")
    resources = body.get("restrictedResources") if isinstance(body, dict) else None
    if not isinstance(resources, list) or not 1 <= len(resources) <= 50:
        return invalid("restrictedResources must hold between 1 and 50 resources.")
    parsed, asked = [], set()
    for i, res in enumerate(resources):
        if not isinstance(res, dict) or res.get("method") != "GET" or not isinstance(res.get("path"), str):
            return invalid(f"restrictedResources[{i}] needs method GET and a path.")
        template = next((t for t in RESTRICTED if _path_matches(t, res["path"])), None)
        if template is None:
            return invalid(f"restrictedResources[{i}].path {res['path']} is not a restricted resource.")
        elements = res.get("dataElements", [])
        allowed = RESTRICTED[template][1]
        if not isinstance(elements, list) or not set(elements) <= allowed:
            return invalid(f"restrictedResources[{i}].dataElements must be a subset of {sorted(allowed)}.")
        asked |= set(elements)
        parsed.append((res["path"], frozenset(elements)))
    if asked and not emu.accounts[grant.seller_id].pii_access:
        return errors(403, "Unauthorized", "Application does not have access to one or more requested "
                      f"data elements: [{', '.join(sorted(asked))}]", "")
    token = "Atz.sprdt|" + secrets.token_urlsafe(96)
    expires = emu.clock.now() + timedelta(seconds=emu.rdt_lifetime)
    emu.grants[token] = Grant(grant.seller_id, expires, tuple(parsed))
    return Response.json(200, {"restrictedDataToken": token, "expiresIn": emu.rdt_lifetime})


def _form(body: bytes) -> dict[str, list[str]]:
    return parse_qs(body.decode("utf-8"), keep_blank_values=True)


def _path_matches(template: str, path: str) -> bool:
    t_parts, p_parts = template.strip("/").split("/"), path.strip("/").split("/")
    return len(t_parts) == len(p_parts) and all(
        t == p or (t.startswith("{") and t.endswith("}")) for t, p in zip(t_parts, p_parts, strict=True))
