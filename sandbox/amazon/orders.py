"""The Amazon emulator's Orders v0 reads: getOrders (paged by NextToken), getOrder, its address and items.

getOrders keeps the 2-minute rule on ``*Before`` and answers a NextToken that carries its own query, so
filters sent beside one are ignored; which buyer and address fields an answer holds depends on the
Restricted Data Token it was called with (``sandbox.amazon.tokens``). Kept apart from the emulator (routes,
auth, rate headers) the way ``push`` keeps the write side; these handlers name what they use of it with a
Protocol.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sandbox.amazon.shapes import (
    MALFORMATIONS,
    MARKETPLACE_OF,
    ORDER_STATUS,
    invalid,
    iso,
    not_found,
    render_items,
    render_order,
    shipping_address,
)
from sandbox.amazon.tokens import Grant
from sandbox.core.demo_accounts import AmazonCredentials
from sandbox.core.faults import FaultInjector
from sandbox.core.http_types import Request, Response
from sandbox.core.orders import GeneratedOrder
from sandbox.core.server import EmulatorState

TWO_MINUTE_RULE = (
    "The input you have submitted is not valid. Note that the error may be due to a systematic delay in "
    "data retrieval. The most updated data is 2 minutes after an order is created or last updated. If you "
    "set the CreatedBefore or LastUpdatedBefore parameters, please provide a date that is at least 2 "
    "minutes before current time and try again.")
BAD_NEXT_TOKEN = "We could not decode your NextToken. Please check your NextToken and try again."


class NextTokens:
    """Opaque, tamper-evident NextTokens: standard base64 (so + / = need URL-encoding) of a MAC (a key
    of this emulator's own) and the JSON state, bound to a seller and a scope (the order list, one
    order's items)."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(16)

    def encode(self, state: dict[str, Any], seller_id: str, scope: str) -> str:
        data = json.dumps({"s": seller_id, "scope": scope, "q": state}, sort_keys=True, separators=(",", ":"))
        mac = hmac.new(self._key, data.encode(), hashlib.sha256).hexdigest()[:16]
        return base64.b64encode(f"{mac}{data}".encode()).decode()

    def decode(self, token: str, seller_id: str, scope: str) -> dict[str, Any] | None:
        try:
            raw = base64.b64decode(token, validate=True).decode()
            mac, data = raw[:16], raw[16:]
            envelope = json.loads(data)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        good = hmac.compare_digest(mac, hmac.new(self._key, data.encode(), hashlib.sha256).hexdigest()[:16])
        if not good or envelope.get("s") != seller_id or envelope.get("scope") != scope:
            return None
        return envelope["q"]


class AmazonOrderSource(EmulatorState, Protocol):
    """What these handlers use of ``AmazonEmulator`` (it satisfies this; importing it here would be a cycle)."""

    accounts: dict[str, AmazonCredentials]
    faults: FaultInjector
    items_page_size: int
    next_tokens: NextTokens


def get_orders(emu: AmazonOrderSource, request: Request) -> Response:
    grant: Grant = request.caller
    now = emu.clock.now()
    marketplaces = _csv(request, "MarketplaceIds")
    if not marketplaces:
        return invalid("MarketplaceIds is required.")
    if len(marketplaces) > 50 or not set(marketplaces) <= set(emu.accounts[grant.seller_id].marketplace_ids):
        return invalid(f"Invalid MarketplaceIds: {','.join(marketplaces)}")
    token = request.arg("NextToken")
    if token is not None:
        # The token carries the query it was issued for; filters sent beside it (the first request
        # repeated, as python-amazon-sp-api's load_all_pages and many clients do) change nothing.
        query = emu.next_tokens.decode(token, grant.seller_id, "orders")
        if query is None:
            return invalid(message=BAD_NEXT_TOKEN)
    else:
        query = _first_page_query(emu, request, now)
        if isinstance(query, Response):
            return query
    return _orders_page(emu, query, marketplaces, grant, now)


def _first_page_query(emu: AmazonOrderSource, request: Request, now: datetime) -> dict[str, Any] | Response:
    fields = ("CreatedAfter", "CreatedBefore", "LastUpdatedAfter", "LastUpdatedBefore")
    dates: dict[str, datetime] = {}
    bad = []
    for name in fields:
        raw = request.arg(name)
        if raw is not None:
            parsed = _parse_date(raw)
            if parsed is None:
                bad.append(name[0].lower() + name[1:])
            else:
                dates[name] = parsed
    if bad:
        return invalid(message=f"Invalid date-time field(s) [{', '.join(bad)}]")
    ids = _csv(request, "AmazonOrderIds")
    mode = "created" if "CreatedAfter" in dates else "updated"
    if not ids:
        if ("CreatedAfter" in dates) == ("LastUpdatedAfter" in dates):
            return invalid("Exactly one of CreatedAfter and LastUpdatedAfter is required.")
        if mode == "created" and "LastUpdatedBefore" in dates or mode == "updated" and "CreatedBefore" in dates:
            return invalid("LastUpdatedAfter/LastUpdatedBefore cannot be combined with CreatedAfter/CreatedBefore.")
    prefix = "Created" if mode == "created" else "LastUpdated"
    after = dates.get(f"{prefix}After", datetime(1995, 1, 1, tzinfo=UTC))
    before = dates.get(f"{prefix}Before")
    if before is not None:
        if before < after:
            return invalid(f"{prefix}Before must be later than or equal to {prefix}After.")
        if before > now - timedelta(minutes=2):
            return invalid(message=TWO_MINUTE_RULE)
    else:
        before = now - timedelta(minutes=2)
    size = request.arg("MaxResultsPerPage", "100")
    if not (size or "").isdigit() or not 1 <= int(size) <= 100:
        return invalid("MaxResultsPerPage must be between 1 and 100.")
    if len(ids) > 50:
        return invalid("AmazonOrderIds accepts at most 50 ids.")
    return {"mode": mode, "after": iso_us(after), "before": iso_us(before), "size": int(size),
            "statuses": _csv(request, "OrderStatuses"), "channels": _csv(request, "FulfillmentChannels"),
            "ids": ids, "cursor": None}


def _orders_page(emu: AmazonOrderSource, query: dict[str, Any], marketplaces: list[str], grant: Grant,
                 now: datetime) -> Response:
    after, before = datetime.fromisoformat(query["after"]), datetime.fromisoformat(query["before"])
    rows = []
    for oid, order in emu.orders.items():
        if order.account != grant.seller_id or MARKETPLACE_OF[order.country] not in marketplaces:
            continue
        if not order.visible(now) or (query["ids"] and oid not in query["ids"]):
            continue
        state = order.state(now)
        key_time = order.created_at if query["mode"] == "created" else state.updated_at
        if not query["ids"] and not after <= key_time <= before:
            continue
        if query["statuses"] and ORDER_STATUS[state.status] not in query["statuses"]:
            continue
        channel = "AFN" if order.platform_fulfilled else "MFN"
        if query["channels"] and channel not in query["channels"]:
            continue
        rows.append((iso_us(state.updated_at), oid, order, state))
    rows.sort(key=lambda r: (r[0], r[1]))
    if query["cursor"]:
        rows = [r for r in rows if (r[0], r[1]) > tuple(query["cursor"])]
    page, more = rows[:query["size"]], len(rows) > query["size"]
    elements = grant.elements_for("/orders/v0/orders") or frozenset()
    orders = [render_order(oid, order, state, now, elements, emu.faults.malformation(oid, MALFORMATIONS))
              for _, oid, order, state in page]
    payload: dict[str, Any] = {"Orders": orders}
    if more:
        last = page[-1] if not (len(page) > 1 and emu.faults.duplicates_after(page[-1][1])) else page[-2]
        payload["NextToken"] = emu.next_tokens.encode({**query, "cursor": [last[0], last[1]]},
                                                  grant.seller_id, "orders")
    payload["CreatedBefore" if query["mode"] == "created" else "LastUpdatedBefore"] = \
        iso(datetime.fromisoformat(query["before"]))
    return Response.json(200, {"payload": payload})


def _visible_order(emu: AmazonOrderSource, request: Request) -> tuple[str, GeneratedOrder] | Response:
    oid = request.params["orderId"]
    order = emu.orders.get(oid)
    if order is None or order.account != request.caller.seller_id or not order.visible(emu.clock.now()):
        return not_found(f"Order {oid}")
    return oid, order


def get_order(emu: AmazonOrderSource, request: Request) -> Response:
    found = _visible_order(emu, request)
    if isinstance(found, Response):
        return found
    oid, order = found
    now = emu.clock.now()
    elements = request.caller.elements_for(request.path) or frozenset()
    doc = render_order(oid, order, order.state(now), now, elements, emu.faults.malformation(oid, MALFORMATIONS))
    return Response.json(200, {"payload": doc})


def get_address(emu: AmazonOrderSource, request: Request) -> Response:
    found = _visible_order(emu, request)
    if isinstance(found, Response):
        return found
    oid, order = found
    now = emu.clock.now()
    state = order.state(now)
    payload: dict[str, Any] = {"AmazonOrderId": oid}
    if ORDER_STATUS[state.status] in ("Unshipped", "PartiallyShipped", "Shipped"):
        payload["ShippingAddress"] = shipping_address(order, state, now, request.caller.restricted)
    return Response.json(200, {"payload": payload})


def get_items(emu: AmazonOrderSource, request: Request) -> Response:
    found = _visible_order(emu, request)
    if isinstance(found, Response):
        return found
    oid, order = found
    items = render_items(order, order.state(emu.clock.now()))
    start = 0
    token = request.arg("NextToken")
    if token is not None:
        decoded = emu.next_tokens.decode(token, request.caller.seller_id, f"items:{oid}")
        if decoded is None:
            return invalid(message=BAD_NEXT_TOKEN)
        start = decoded["offset"]
    end = start + emu.items_page_size
    payload: dict[str, Any] = {"AmazonOrderId": oid, "OrderItems": items[start:end]}
    if end < len(items):
        payload["NextToken"] = emu.next_tokens.encode({"offset": end}, request.caller.seller_id, f"items:{oid}")
    return Response.json(200, {"payload": payload})


def iso_us(moment: datetime) -> str:
    """Sortable ISO with microseconds, for cursors (the API itself shows whole seconds)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _csv(request: Request, name: str) -> list[str]:
    values = request.query.get(name, [])
    return [part for value in values for part in value.split(",") if part]


def _parse_date(raw: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
