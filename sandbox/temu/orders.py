"""The TEMU emulator's order reads: the paged list, one order's detail, its ship-to and its amounts.

``bg.order.list.v2.get`` pages by page number and is evaluated at each call, as TEMU does (no snapshot);
``bg.order.detail.v2.get`` shows one parent order as a list item; ``bg.order.shippinginfo.v2.get`` (masked)
and ``bg.order.decryptshippinginfo.get`` (in the clear) refuse a PENDING order; ``bg.order.amount.query``
refuses one still being priced. Kept apart from the emulator (the signed router, auth, webhooks) the way
``push`` keeps the write side; these handlers name what they use of it with a Protocol.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from sandbox.core.demo_accounts import TemuCredentials
from sandbox.core.faults import FaultInjector
from sandbox.core.http_types import Request, Response
from sandbox.core.orders import GeneratedOrder
from sandbox.core.server import EmulatorState
from sandbox.temu.shapes import (
    ALL_STATUSES,
    MALFORMATIONS,
    PENDING,
    TemuView,
    envelope,
    render_amount,
    render_decrypted_shipping,
    render_list_item,
    render_shipping_info,
    unix,
)

MAX_PAGE_SIZE = 100
MAX_SN_LIST = 20
TIME_PAIRS = (("updateAtStart", "updateAtEnd"), ("createAfter", "createBefore"))
E_BUSINESS = 2000000
E_MS_TIMESTAMP = (140020014, "requires a second level timestamp")
E_STILL_PRICING = (140020008, "Some amount fields are still undergoing system calculation. Please try again later.")


class TemuOrderSource(EmulatorState, Protocol):
    """What these handlers use of ``TemuEmulator`` (it satisfies this; importing it here would be a cycle)."""

    faults: FaultInjector
    pricing_delay: timedelta

    def error(self, failure: tuple[int, str]) -> Response: ...
    def bad_params(self, message: str) -> Response: ...
    def view(self, order: GeneratedOrder, now: datetime) -> TemuView: ...
    def owned_order(self, shop: TemuCredentials, sn: Any) -> GeneratedOrder | None: ...


def list_orders(emu: TemuOrderSource, request: Request) -> Response:
    """Page-number paging evaluated at each call, like TEMU: no snapshot, so an order that changes
    between two page reads shifts the pages after it (the connector re-walks when the total moves)."""
    shop: TemuCredentials = request.caller
    body = request.json_object() or {}
    page, size = body.get("pageNumber", 1), body.get("pageSize", 10)
    if not _whole(page) or page < 1:
        return emu.bad_params("pageNumber must be an integer >= 1")
    if not _whole(size) or not 1 <= size <= MAX_PAGE_SIZE:
        return emu.bad_params(f"pageSize must be an integer from 1 to {MAX_PAGE_SIZE}")
    filters = _filters(emu, body)
    if isinstance(filters, Response):
        return filters
    now = emu.clock.now()
    rows = _matching(emu, shop, filters, now)
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)  # TEMU sorts descending by `sortby`
    start = _page_start(emu, rows, page, size)
    items = [render_list_item(order, seen, shop.mall_type, emu.faults.malformation(sn, MALFORMATIONS))
             for _, sn, order, seen in rows[start:start + size]]
    return envelope({"totalItemNum": len(rows), "pageItems": items}, now=now)


def _page_start(emu: TemuOrderSource, rows: list[tuple[int, str, GeneratedOrder, TemuView]], page: int,
                size: int) -> int:
    """Where page ``page`` starts; a page ending with a duplicated order repeats it on the next page."""
    start = 0
    for _ in range(page - 1):
        chunk = rows[start:start + size]
        repeat = len(chunk) == size > 1 and emu.faults.duplicates_after(chunk[-1][1])
        start += size - 1 if repeat else size
    return start


def _filters(emu: TemuOrderSource, body: dict[str, Any]) -> dict[str, Any] | Response:
    filters: dict[str, Any] = {"sortby": body.get("sortby", "createTime")}
    if filters["sortby"] not in ("updateTime", "createTime"):
        return emu.bad_params("sortby must be updateTime or createTime")
    for pair in TIME_PAIRS:
        for name in pair:
            if name not in body:
                continue
            value = body[name]
            if not _whole(value) or value < 0:
                return emu.bad_params(f"{name} must be unix seconds")
            if value > 10**11:
                return emu.error(E_MS_TIMESTAMP)
            filters[name] = value
    status = body.get("parentOrderStatus", 0)
    if status not in ALL_STATUSES or not _whole(status):
        return emu.bad_params(f"parentOrderStatus must be one of {sorted(ALL_STATUSES)}")
    filters["parentOrderStatus"] = status
    sns = body.get("parentOrderSnList")
    if sns is not None:
        if not isinstance(sns, list) or len(sns) > MAX_SN_LIST:
            return emu.bad_params(f"parentOrderSnList takes at most {MAX_SN_LIST} order numbers")
        filters["parentOrderSnList"] = set(map(str, sns))
    return filters


def _matching(emu: TemuOrderSource, shop: TemuCredentials, filters: dict[str, Any],
              now: datetime) -> list[tuple[int, str, GeneratedOrder, TemuView]]:
    """Both ends of a time range are inclusive [INFERRED: not published]."""
    rows = []
    wanted = filters.get("parentOrderSnList")
    for sn, order in emu.orders.items():
        if order.account != shop.mall_id or not order.visible(now) or (wanted and sn not in wanted):
            continue
        seen = emu.view(order, now)
        times = {"updateAt": unix(seen.updated_at), "create": unix(order.created_at)}
        if not (_within(times["updateAt"], filters.get("updateAtStart"), filters.get("updateAtEnd"))
                and _within(times["create"], filters.get("createAfter"), filters.get("createBefore"))):
            continue
        if filters["parentOrderStatus"] and seen.status != filters["parentOrderStatus"]:
            continue
        key = times["updateAt"] if filters["sortby"] == "updateTime" else times["create"]
        rows.append((key, sn, order, seen))
    return rows


def _one_order(emu: TemuOrderSource, request: Request) -> tuple[GeneratedOrder, str] | Response:
    body = request.json_object() or {}
    sn = body.get("parentOrderSn")
    if not isinstance(sn, str) or not sn:
        return emu.bad_params("parentOrderSn is required")
    order = emu.owned_order(request.caller, sn)
    if order is None:
        return emu.error((E_BUSINESS, f"BUSINESS_EXCEPTION: order {sn} does not exist"))
    return order, sn


def detail(emu: TemuOrderSource, request: Request) -> Response:
    found = _one_order(emu, request)
    if isinstance(found, Response):
        return found
    order, sn = found
    now = emu.clock.now()
    item = render_list_item(order, emu.view(order, now), request.caller.mall_type,
                            emu.faults.malformation(sn, MALFORMATIONS))
    return envelope(item, now=now)


def shipping_info(emu: TemuOrderSource, request: Request) -> Response:
    """Refused while PENDING: the address may still change and TEMU says not to act on it (docs/platforms/temu.md)."""
    found = _addressable(emu, request)
    if isinstance(found, Response):
        return found
    order, seen = found
    masked = int(order.serial[-1]) % 2 == 0  # about half the buyers get a masked phone
    semi = request.caller.mall_type == "SEMI"
    return envelope(render_shipping_info(seen.state.address, masked, semi), now=emu.clock.now())


def decrypted_shipping(emu: TemuOrderSource, request: Request) -> Response:
    """The ship-to in the clear (the gateway already refused a token without the API in its scope)."""
    found = _addressable(emu, request)
    if isinstance(found, Response):
        return found
    return envelope(render_decrypted_shipping(found[1].state.address), now=emu.clock.now())


def _addressable(emu: TemuOrderSource, request: Request) -> tuple[GeneratedOrder, TemuView] | Response:
    """The order and how TEMU shows it now, unless it is unknown or still PENDING (the same rule for
    both address APIs; for the decrypt API it is our reading, unverified)."""
    found = _one_order(emu, request)
    if isinstance(found, Response):
        return found
    order, sn = found
    seen = emu.view(order, emu.clock.now())
    if seen.status == PENDING:
        return emu.error((E_BUSINESS, f"BUSINESS_EXCEPTION: order {sn} is pending"))
    return order, seen


def amount(emu: TemuOrderSource, request: Request) -> Response:
    """Refused with 140020008 while the order is younger than ``pricing_delay`` (still being priced)."""
    found = _one_order(emu, request)
    if isinstance(found, Response):
        return found
    order, now = found[0], emu.clock.now()
    if now < order.created_at + emu.pricing_delay:
        return emu.error(E_STILL_PRICING)
    return envelope(render_amount(order), now=now)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _within(value: int, start: int | None, end: int | None) -> bool:
    return (start is None or value >= start) and (end is None or value <= end)
