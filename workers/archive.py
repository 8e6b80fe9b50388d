"""The hourly move of each seller's closed orders to the archive (pipeline/archive/move.py decides
which and how); this module only runs it, one run per seller at a time, and queues the next run at
once when this one stopped at its cap with more left to move. Beside it, the hourly stock snapshot:
the ledger's counts per warehouse and SKU upserted as today's row, so each day keeps its last reading
(the history the decision layer forecasts from and replays routing against).
"""

from __future__ import annotations

from typing import Any

import msgspec
import structlog

from orderhub.runtime.redisconn import get_redis
from orderhub.runtime.settings import key_prefix
from pipeline import keys
from pipeline.archive import get_engine
from pipeline.archive.move import archive_seller
from pipeline.archive.snapshots import snapshot_stock as write_snapshot
from pipeline.locks import live_lease
from pipeline.model import utc_now
from pipeline.stock import StockLedger
from workers.app import app
from workers.common import _store
from workers.config_cache import seller_config

PER_RUN = 5000
"""Closed orders moved per run: ten batches, well inside the task time limit; the rest go in the next run."""


@app.task(name="workers.tasks.archive_closed", acks_late=True)
def archive_closed(seller: str) -> dict[str, Any]:
    """Move the seller's closed orders older than its `retention.hot_days` from Redis to the archive."""
    structlog.contextvars.bind_contextvars(seller=seller)
    with live_lease(get_redis(), keys.archive_lock(key_prefix(), seller)) as held:
        if not held:
            return {"skipped": "another move of this seller is running"}
        report = archive_seller(_store(), get_engine(), seller_config(seller), limit=PER_RUN)
    if report.archived + report.changed >= PER_RUN:  # stopped at the cap: more are waiting
        archive_closed.apply_async((seller,), queue="route")
    return msgspec.structs.asdict(report)


@app.task(name="workers.tasks.snapshot_stock", acks_late=True)
def snapshot_stock(seller: str) -> dict[str, Any]:
    """Write the seller's stock per warehouse and SKU, as the ledger counts it now, as today's snapshot."""
    structlog.contextvars.bind_contextvars(seller=seller)
    ledger = StockLedger(get_redis(), key_prefix())
    return {"rows": write_snapshot(ledger, get_engine(), seller_config(seller), utc_now())}
