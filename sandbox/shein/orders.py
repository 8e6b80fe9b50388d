"""The SHEIN emulator's order reads: the order list, order detail and export-address.

SHEIN hands an order to the seller once it is paid, so an unpaid order is in no answer. The list takes a
created or updated time window of at most ``max_window`` and fixed-size pages; export-address with
handleType 2 moves an order from "pending processing" (1) to "pending shipment" (2). Kept apart from the
emulator (signing, auth, webhooks) the way ``push`` keeps the write side; these handlers name what they
use of it with a Protocol.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from sandbox.core.faults import FaultInjector
from sandbox.core.http_types import Request, Response
from sandbox.core.orders import GeneratedOrder, OrderState
from sandbox.core.server import EmulatorState
from sandbox.shein.shapes import (
    ALL_STATUSES,
    E_ORDER,
    E_ORDER_STATE,
    MALFORMATIONS,
    envelope,
    list_row,
    param_error,
    parse_request_time,
    render_detail,
)
from sandbox.shein.shapes import export_address as export_row

MAX_PAGE_SIZE = 30
MAX_DETAIL = 30


class SheinOrderSource(EmulatorState, Protocol):
    """What these handlers use of ``SheinEmulator`` (it satisfies this; importing it here would be a cycle)."""

    faults: FaultInjector
    max_window: timedelta
    acknowledged: dict[str, datetime]

    def warehouse_code(self, open_key_id: str) -> str: ...
    def listed(self, order: GeneratedOrder, now: datetime) -> OrderState | None: ...
    def status_of(self, oid: str, order: GeneratedOrder, state: OrderState) -> tuple[int, datetime]: ...


def order_list(emu: SheinOrderSource, request: Request) -> Response:
    body = request.json_object()
    if body is None:
        return param_error("body must be a JSON object")
    query_type = body.get("queryType")
    if query_type not in (1, 2):
        return param_error("queryType must be 1 (created) or 2 (updated)")
    start, end = parse_request_time(body.get("startTime")), parse_request_time(body.get("endTime"))
    if start is None or end is None:
        return param_error("startTime and endTime must be 'yyyy-MM-dd HH:mm:ss' (UTC+8)")
    if end < start or end - start > emu.max_window:
        return param_error(f"the time window must be between 0 and {int(emu.max_window.total_seconds() // 3600)} hours")
    page, size = body.get("page"), body.get("pageSize")
    if not _whole(page) or page < 1 or not _whole(size) or not 1 <= size <= MAX_PAGE_SIZE:
        return param_error(f"page must be >= 1 and pageSize between 1 and {MAX_PAGE_SIZE}")
    wanted = body.get("orderStatus")
    if wanted is not None and (str(wanted) not in {str(s) for s in ALL_STATUSES}):
        return param_error("orderStatus must be 1 to 9")
    now, account = emu.clock.now(), request.caller.open_key_id
    rows = []
    for oid, order in emu.orders.items():
        state = emu.listed(order, now) if order.account == account else None
        if state is None:
            continue
        status, updated = emu.status_of(oid, order, state)
        moment = (order.created_at if query_type == 1 else updated).replace(microsecond=0)
        # Both ends inclusive, at the second resolution of the request strings [INFERRED].
        if not start <= moment <= end or (wanted is not None and str(status) != str(wanted)):
            continue
        rows.append((moment, oid, list_row(oid, order, status, updated)))
    rows.sort(key=lambda r: (r[0], r[1]))
    served = _page(emu, rows, page, size)
    return envelope({"count": len(rows), "orderList": [r[2] for r in served]})


def _page(emu: SheinOrderSource, rows: list[Any], page: int, size: int) -> list[Any]:
    """Page ``page`` of fixed-size pages; a duplicated boundary starts the next page one row early
    (what an insertion between two page reads does), so its last row shows twice."""
    begin = 0
    for _ in range(page - 1):
        end = begin + size
        if end > len(rows):
            return []
        begin = end - 1 if emu.faults.duplicates_after(rows[end - 1][1]) else end
    return rows[begin:begin + size]


def order_detail(emu: SheinOrderSource, request: Request) -> Response:
    body = request.json_object()
    numbers = (body or {}).get("orderNoList")
    if not isinstance(numbers, list) or not 1 <= len(numbers) <= MAX_DETAIL \
            or not all(isinstance(n, str) for n in numbers):
        return param_error(f"orderNoList must hold 1 to {MAX_DETAIL} order numbers")
    now, account = emu.clock.now(), request.caller.open_key_id
    info = []
    for oid in dict.fromkeys(numbers):
        order = emu.orders.get(oid)
        state = emu.listed(order, now) if order is not None and order.account == account else None
        if state is not None:
            info.append(_render(emu, oid, order, state))
    return envelope(info)


def _render(emu: SheinOrderSource, oid: str, order: GeneratedOrder, state: OrderState) -> dict[str, Any]:
    status, updated = emu.status_of(oid, order, state)
    return render_detail(oid, order, state, status, updated, emu.warehouse_code(order.account),
                         emu.faults.malformation(oid, MALFORMATIONS))


def export_address(emu: SheinOrderSource, request: Request) -> Response:
    """handleType 1 exports; 2 exports and moves "pending processing" (1) to "pending shipment" (2)."""
    body = request.json_object() or {}
    oid, handle = body.get("orderNo"), body.get("handleType")
    if not isinstance(oid, str) or handle not in (1, 2):
        return param_error("orderNo is required and handleType must be 1 or 2")
    now = emu.clock.now()
    order = emu.orders.get(oid)
    state = emu.listed(order, now) if order is not None and order.account == request.caller.open_key_id else None
    if state is None:
        return envelope(None, *E_ORDER)
    if order.platform_fulfilled:
        return envelope(None, *E_ORDER_STATE)  # SHEIN ships it: the seller gets no address
    status, _ = emu.status_of(oid, order, state)
    if handle == 2:
        if status in (6, 9):
            return envelope(None, *E_ORDER_STATE)
        if status == 1:
            emu.acknowledged[oid] = now
    return envelope({"receiveMsgList": [export_row(oid, state.address, order.buyer_email_local)]})


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
