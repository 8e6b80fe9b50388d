"""Hand routed orders to their warehouses, and carry cancellations after them.

Warehouse clients are passed in (the pipeline imports no connector). Each (order, warehouse) has one
client reference derived from the order key (pipeline/identity.py), and the submission is recorded
only after the warehouse confirmed it, so a re-run re-submits under the same reference and the
warehouse (or the connector's lookup) keeps it to one outbound order.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
import structlog

from config.schema import SellerConfig
from pipeline.address_changes import follow_address
from pipeline.errors import NeedsReview
from pipeline.identity import outbound_reference
from pipeline.model import EventKind, HoldReason, OrderStatus
from pipeline.ports import OutboundLine, OutboundRequest, OutboundStatus, WarehouseClient
from pipeline.stages import OutboundState, Stage
from pipeline.stock import StockLedger, allocations_of_raw
from pipeline.store import OrderStore
from pipeline.submissions import Records, Submission, record, submissions

log = structlog.get_logger()


def submit_order(store: OrderStore, ledger: StockLedger, seller: SellerConfig, order_key: str,
                 clients: Mapping[str, WarehouseClient], *, preloaded: tuple | None = None,
                 batch: Records | None = None) -> dict[str, Submission]:
    """Submit every allocation of a routed order that is not submitted yet, each outbound order named by
    its `outbound_reference`. A warehouse refusal holds the order WAREHOUSE_REJECTED and frees its stock.
    A dispatch batch passes what `submissions.preload` read for the order (once per order, in one round
    trip for the batch) and its `Records`, which writes the submissions when the batch ends."""
    stored, done, raw_allocation = preloaded if preloaded is not None else (store.get(seller.seller, order_key),
                                                                            None, None)
    if stored is None or stored.order is None or stored.order.status is OrderStatus.CANCELLED:
        return {}
    order = stored.order
    done = dict(done) if preloaded is not None else submissions(store, seller.seller, order_key)
    bound = log.bind(seller=seller.seller, platform=order.platform, shop=order.shop_id, order_key=order_key)
    if not done and order.status not in (OrderStatus.READY, OrderStatus.PARTIALLY_SHIPPED):
        # Shipped (or delivered) on the platform between routing and now, with no warehouse involved:
        # sending it now would ship it twice.
        ledger.release(seller.seller, order_key)
        store.set_stage(seller.seller, order_key, Stage.IGNORED)
        store.append_event(seller.seller, order_key, EventKind.IGNORED,
                           f"{order.status.value} on the platform before any warehouse had it: nothing sent")
        bound.info("order.not_submitted", status=order.status.value)
        return {}
    if order.ship_to is None:
        if not done:
            hold_unsubmitted(store, ledger, seller.seller, order_key, HoldReason.ADDRESS_INCOMPLETE,
                             "no ship-to address on the latest copy of the order")
        return done
    if done:
        # An update of an order a warehouse already has: the buyer may have moved the parcel. Whatever the
        # platform's status now: a change that lands as the tracking goes out still went to the old door.
        follow_address(store, seller.seller, order_key, order.ship_to, done, clients)
    if order.status not in (OrderStatus.READY, OrderStatus.PARTIALLY_SHIPPED):
        return done  # shipped on the platform: nothing more goes to a warehouse
    wrote_stage = False
    allocations = (allocations_of_raw(raw_allocation) if preloaded is not None
                   else ledger.allocation(seller.seller, order_key))
    for i, allocation in enumerate(allocations):
        if allocation.warehouse in done:
            continue
        lines = tuple(OutboundLine(sku, qty) for sku, qty in allocation.lines if qty > 0)
        if not lines:
            continue
        request = OutboundRequest(reference=outbound_reference(order_key, allocation.warehouse), order_key=order_key,
                                  platform=order.platform, external_id=order.external_id, lines=lines,
                                  ship_to=order.ship_to, currency=order.currency)
        try:
            status = clients[allocation.warehouse].submit(request)
        except NeedsReview as exc:
            hold_unsubmitted(store, ledger, seller.seller, order_key, HoldReason.WAREHOUSE_REJECTED,
                             f"{allocation.warehouse}: {exc}")
            return done
        sub = Submission(allocation.warehouse, request.reference, status.remote_id, status.state,
                         ship_to=order.ship_to)
        record(store, seller.seller, order_key, sub,
                submitted=f"{allocation.warehouse} ref {request.reference} ({status.remote_id})",
                last=i == len(allocations) - 1, batch=batch)
        done[allocation.warehouse] = sub
        wrote_stage = i == len(allocations) - 1
        bound.info("order.submitted", warehouse=allocation.warehouse)
    if done and not wrote_stage and stored.stage != Stage.SUBMITTED:  # submitted in an earlier run
        store.set_stage(seller.seller, order_key, Stage.SUBMITTED)
    return done


def hold_unsubmitted(store: OrderStore, ledger: StockLedger, seller: str, order_key: str, reason: HoldReason,
                     detail: str) -> None:
    """Hold an order that cannot go to (more) warehouses and free what it reserved; replay routes it again."""
    ledger.release(seller, order_key)
    store.hold(seller, order_key, reason, detail)
    store.set_stage(seller, order_key, Stage.HELD)
    log.warning("order.held", seller=seller, order_key=order_key, reason=reason.value)


def cancel_order(store: OrderStore, ledger: StockLedger, seller: SellerConfig, order_key: str,
                 clients: Mapping[str, WarehouseClient]) -> dict[str, OutboundStatus]:
    """The platform cancelled the order: cancel every outbound not shipped yet, free the stock, and flag
    CANCEL_TOO_LATE for ops where a warehouse had already shipped."""
    results: dict[str, OutboundStatus] = {}
    too_late = []
    for wh, sub in submissions(store, seller.seller, order_key).items():
        if sub.state == OutboundState.CANCELLED:
            continue
        status = clients[wh].cancel(sub.reference)
        results[wh] = status
        record(store, seller.seller, order_key, msgspec.structs.replace(sub, state=status.state))
        if status.state == OutboundState.SHIPPED:
            too_late.append(f"{wh} shipped {status.tracking_number or sub.reference}")
        else:
            store.append_event(seller.seller, order_key, EventKind.CANCELLED, f"{wh} outbound {sub.reference} cancelled")
    ledger.release(seller.seller, order_key)
    if too_late:
        store.hold(seller.seller, order_key, HoldReason.CANCEL_TOO_LATE,
                   "cancelled by the platform after the warehouse shipped: " + "; ".join(too_late))
    else:
        store.set_stage(seller.seller, order_key, Stage.CANCELLED)
    return results
