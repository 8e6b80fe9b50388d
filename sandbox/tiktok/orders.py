"""The TikTok emulator's order reads: order search (cursor pages) and order detail (202309 and 202507).

Search pages are walked with an opaque ``next_page_token`` that holds the first page's time (where an
open-ended time window ends on every page) and the last row served; a token only continues the search
(filters and sort) it was issued for. Kept apart from the emulator (signing, auth) and ``tokens`` the way
``push`` keeps the write side; these handlers name what they use of the emulator with a Protocol.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any, Protocol

from sandbox.core.demo_accounts import TikTokCredentials
from sandbox.core.faults import FaultInjector
from sandbox.core.http_types import Request, Response
from sandbox.core.orders import GeneratedOrder
from sandbox.core.server import EmulatorState
from sandbox.tiktok.shapes import (
    ALL_STATUSES,
    MALFORMATIONS,
    ORDER_STATUS,
    envelope,
    param_error,
    render_order,
    shipping_type,
    unix,
)

TIME_FILTERS = ("create_time_ge", "create_time_lt", "update_time_ge", "update_time_lt")


class PageTokens:
    """Search page tokens: base64 of a MAC (a key of this emulator's own) and the JSON state, bound to a
    shop and a search; any other token, or one altered, does not decode."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(16)

    def encode(self, state: dict[str, Any], shop_id: str, search: list[Any]) -> str:
        data = json.dumps({"shop": shop_id, "search": search, "state": state}, sort_keys=True, separators=(",", ":"))
        mac = hmac.new(self._key, data.encode(), hashlib.sha256).hexdigest()[:16]
        return base64.b64encode(f"{mac}{data}".encode()).decode()

    def decode(self, token: str, shop_id: str, search: list[Any]) -> dict[str, Any] | None:
        try:
            raw = base64.b64decode(token, validate=True).decode()
            envelope_ = json.loads(raw[16:])
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        mac = hmac.new(self._key, raw[16:].encode(), hashlib.sha256).hexdigest()[:16]
        if not hmac.compare_digest(mac, raw[:16]) or envelope_.get("shop") != shop_id:
            return None
        if envelope_.get("search") != json.loads(json.dumps(search)):
            return None
        return envelope_["state"]


class TikTokOrderSource(EmulatorState, Protocol):
    """What these handlers use of ``TikTokEmulator`` (it satisfies this; importing it here would be a cycle)."""

    faults: FaultInjector
    always_mask: bool
    page_tokens: PageTokens

    def warehouse_id(self, shop_id: str) -> str: ...


def search_orders(emu: TikTokOrderSource, request: Request) -> Response:
    shop: TikTokCredentials = request.caller.shop
    size = request.arg("page_size")
    if size is None or not size.isdigit() or not 1 <= int(size) <= 100:
        return param_error("page_size", f"got {size!r}", "an integer from 1 to 100")
    sort_field = request.arg("sort_field", "create_time")
    sort_order = request.arg("sort_order", "DESC")
    if sort_field not in ("create_time", "update_time"):
        return param_error("sort_field", f"got {sort_field!r}", "create_time or update_time")
    if sort_order not in ("ASC", "DESC"):
        return param_error("sort_order", f"got {sort_order!r}", "ASC or DESC")
    try:
        body = request.json() or {}
    except ValueError:
        return param_error("body", "not valid JSON", "a JSON object")
    filters = _filters(body)
    if isinstance(filters, Response):
        return filters
    now = emu.clock.now()
    page_token = request.arg("page_token")
    snapshot, cursor = unix(now), None
    if page_token:
        decoded = emu.page_tokens.decode(page_token, shop.shop_id, [filters, sort_field, sort_order])
        if decoded is None:
            return param_error("page_token", "it is invalid or belongs to another search", "the next_page_token "
                               "returned with the same filters")
        snapshot, cursor = decoded["snapshot"], decoded["cursor"]
    rows = _matching(emu, shop.shop_id, filters, snapshot, now, sort_field)
    rows.sort(key=lambda r: (r[0], r[1]), reverse=sort_order == "DESC")
    total = len(rows)
    if cursor is not None:
        after = tuple(cursor)
        rows = [r for r in rows if ((r[0], r[1]) < after if sort_order == "DESC" else (r[0], r[1]) > after)]
    page, more = rows[:int(size)], len(rows) > int(size)
    next_token = ""
    if more:
        last = page[-2] if len(page) > 1 and emu.faults.duplicates_after(page[-1][1]) else page[-1]
        state = {"snapshot": snapshot, "cursor": [last[0], last[1]]}
        next_token = emu.page_tokens.encode(state, shop.shop_id, [filters, sort_field, sort_order])
    orders = [_render(emu, oid, order, now) for _, oid, order in page]
    return envelope({"next_page_token": next_token, "total_count": total, "orders": orders}, now=now)


def _matching(emu: TikTokOrderSource, shop_id: str, filters: dict[str, Any], snapshot: int, now: datetime,
              sort_field: str) -> list[tuple[int, str, GeneratedOrder]]:
    window = dict(filters)
    for field in ("create_time", "update_time"):  # a missing end defaults to now (the first page's now)
        if f"{field}_ge" in filters and f"{field}_lt" not in filters:
            window[f"{field}_lt"] = snapshot
    rows = []
    for oid, order in emu.orders.items():
        if order.account != shop_id or not order.visible(now):
            continue
        state = order.state(now)
        times = {"create_time": unix(order.created_at), "update_time": unix(state.updated_at)}
        if not _in_window(times, window):
            continue
        if filters.get("order_status") and ORDER_STATUS[state.status] != filters["order_status"]:
            continue
        if filters.get("shipping_type") and shipping_type(order) != filters["shipping_type"]:
            continue
        rows.append((times[sort_field], oid, order))
    return rows


def order_detail(emu: TikTokOrderSource, request: Request) -> Response:
    shop: TikTokCredentials = request.caller.shop
    ids = [i for i in (request.arg("ids") or "").split(",") if i]
    if not ids or len(ids) > 50:
        return param_error("ids", f"{len(ids)} ids given", "1 to 50 comma-separated order ids")
    now = emu.clock.now()
    found = [(oid, emu.orders.get(oid)) for oid in ids]
    orders = [_render(emu, oid, order, now) for oid, order in found
              if order is not None and order.account == shop.shop_id and order.visible(now)]
    return envelope({"orders": orders}, now=now)


def _render(emu: TikTokOrderSource, oid: str, order: GeneratedOrder, now: datetime) -> dict[str, Any]:
    return render_order(oid, order, order.state(now), emu.warehouse_id(order.account), emu.always_mask,
                        emu.faults.malformation(oid, MALFORMATIONS))




def _filters(body: Any) -> dict[str, Any] | Response:
    if not isinstance(body, dict):
        return param_error("body", "not a JSON object", "a JSON object")
    filters: dict[str, Any] = {}
    for name in TIME_FILTERS:
        if name in body:
            value = body[name]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                return param_error(name, f"got {value!r}", "unix seconds as an integer")
            filters[name] = value
    if "order_status" in body:
        if body["order_status"] not in ALL_STATUSES:
            return param_error("order_status", f"got {body['order_status']!r}", f"one of {sorted(ALL_STATUSES)}")
        filters["order_status"] = body["order_status"]
    if "shipping_type" in body:
        if body["shipping_type"] not in ("TIKTOK", "SELLER"):
            return param_error("shipping_type", f"got {body['shipping_type']!r}", "TIKTOK or SELLER")
        filters["shipping_type"] = body["shipping_type"]
    return filters


def _in_window(times: dict[str, int], filters: dict[str, Any]) -> bool:
    """``*_ge`` inclusive, ``*_lt`` exclusive (docs/platforms/tiktok.md)."""
    for field in ("create_time", "update_time"):
        if f"{field}_ge" in filters and times[field] < filters[f"{field}_ge"]:
            return False
        if f"{field}_lt" in filters and times[field] >= filters[f"{field}_lt"]:
            return False
    return True
