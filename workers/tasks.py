"""Every Celery task, registered under its historical name `workers.tasks.<function>`.

The tasks live in one module per concern (workers/ingest.py, route.py, dispatch.py, tracking.py,
stock.py; shared pieces in workers/common.py). This module stays because workers/app.py includes it
(importing it registers every task) and because callers import tasks from here. Each task is named
explicitly, so queued messages, the beat schedule and `task_routes` keep their names.
"""

from __future__ import annotations

from workers.archive import archive_closed, snapshot_stock
from workers.dispatch import acknowledge_orders, cancel_orders, submit_orders
from workers.ingest import fetch_order, reconcile_shop, refetch_withheld, resume_stalled, sync_shop
from workers.route import route_orders
from workers.stock import check_stock_drift, pull_inventory, sync_stock
from workers.tracking import poll_shipments, push_tracking

__all__ = [
    "acknowledge_orders",
    "archive_closed",
    "cancel_orders",
    "check_stock_drift",
    "fetch_order",
    "poll_shipments",
    "pull_inventory",
    "push_tracking",
    "reconcile_shop",
    "refetch_withheld",
    "resume_stalled",
    "route_orders",
    "snapshot_stock",
    "submit_orders",
    "sync_shop",
    "sync_stock",
]
