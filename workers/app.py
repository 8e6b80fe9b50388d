"""The Celery app: broker on Redis (REDIS_URL or the embedded server), settings for at-least-once.

Configuration is applied when Celery first reads it (`on_configure`), not at import, so importing
`workers` never touches the environment or starts a Redis. Every task is idempotent, which is what
makes late acknowledgement and redelivery safe.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu import Queue

QUEUES = ("ingest", "route", "dispatch", "tracking", "stock")
"""One queue per concern, so ops can size each one's concurrency in the Procfile."""



class Timings:
    """The broker's visibility timeout and every limit that must stay below it, derived together.

    Redis redelivers an unacked message after the visibility timeout, so a task's run time plus any
    countdown it is retried with must stay well under it, or the task runs twice (docs/celery.md).
    Production keeps 30 minutes; tests shorten it with ORDERHUB_VISIBILITY_TIMEOUT so the message a
    SIGKILLed worker held comes back in seconds, not half an hour.
    """

    def __init__(self, visibility_timeout: int | None = None) -> None:
        import os

        self.visibility_timeout = visibility_timeout or int(os.environ.get("ORDERHUB_VISIBILITY_TIMEOUT", 1800))
        self.task_time_limit = min(300, self.visibility_timeout // 4)
        self.soft_time_limit = self.task_time_limit - min(60, self.task_time_limit // 4)
        self.max_countdown = min(600, self.visibility_timeout // 3)


app = Celery("orderhub", include=["workers.tasks"])


def celery_settings(broker_url: str, timings: Timings | None = None,
                    transport_options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The settings, each with the reason it has this value (sources in docs/celery.md).
    `transport_options` are the broker's own (redisconn.broker_transport_options: a Sentinel master's name)."""
    t = timings or Timings()
    return {
        "broker_url": broker_url,
        # No result backend: outcomes live in the order store, not in Celery results.
        "result_backend": None,
        "task_ignore_result": True,
        # Ack after the task returns, so a worker that dies mid-task leaves the message to be redelivered.
        "task_acks_late": True,
        # ...and when the pool child is killed (SIGKILL, OOM) requeue it rather than ack it as failed.
        "task_reject_on_worker_lost": True,
        # One message reserved per process: a killed worker strands at most that one, and slow API-bound
        # tasks do not queue up behind each other on one worker.
        "worker_prefetch_multiplier": 1,
        # Hard and soft limits far below the visibility timeout, so no task is still running when Redis
        # hands its message to another worker (which would run it twice at once).
        "task_time_limit": t.task_time_limit,
        "task_soft_time_limit": t.soft_time_limit,
        # Longer than any task plus any countdown we use (retries cap their countdown at 600 s).
        "broker_transport_options": {
            "visibility_timeout": t.visibility_timeout,
            # Sweep for unacked messages of dead workers every 10 s instead of ~100 s.
            "unacked_restore_interval": 10,
            "unacked_restore_throttle": 1,
            "socket_timeout": 10,
            "socket_connect_timeout": 5,
            "health_check_interval": 25,
            "retry_on_timeout": True,
            # A Sentinel-managed Redis: the master to follow and how to ask the sentinels (none for one server).
            **(transport_options or {}),
        },
        "visibility_timeout": t.visibility_timeout,
        # JSON only: tasks take ids and windows, never pickled objects.
        "task_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        "enable_utc": True,
        # Keep trying to reach Redis at start and after a restart instead of exiting.
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        "broker_channel_error_retry": True,
        # A task whose broker connection dropped is redelivered; stop the old run so it cannot run twice.
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        # Warm shutdown gives running tasks time to finish, then requeues the rest.
        "worker_soft_shutdown_timeout": 30,
        "worker_enable_soft_shutdown_on_idle": True,
        # Our logging (structlog, redacted) stays in charge of the root logger.
        "worker_hijack_root_logger": False,
        "task_default_queue": "ingest",
        "task_queues": [Queue(name) for name in QUEUES],
        "task_routes": {
            "workers.tasks.sync_shop": {"queue": "ingest"},
            "workers.tasks.fetch_order": {"queue": "ingest"},
            "workers.tasks.refetch_withheld": {"queue": "ingest"},
            "workers.tasks.reconcile_shop": {"queue": "ingest"},
            "workers.tasks.route_orders": {"queue": "route"},
            "workers.tasks.submit_orders": {"queue": "dispatch"},
            "workers.tasks.cancel_orders": {"queue": "dispatch"},
            "workers.tasks.acknowledge_orders": {"queue": "dispatch"},
            "workers.tasks.poll_shipments": {"queue": "tracking"},
            "workers.tasks.push_tracking": {"queue": "tracking"},
            "workers.tasks.pull_inventory": {"queue": "stock"},
            "workers.tasks.sync_stock": {"queue": "stock"},
            "workers.tasks.check_stock_drift": {"queue": "stock"},
            "workers.tasks.archive_closed": {"queue": "route"},
            "workers.tasks.snapshot_stock": {"queue": "stock"},
        },
        # Leak guard: recycle a pool process after many tasks.
        "worker_max_tasks_per_child": 2000,
    }


RECONCILE_EVERY = 24 * 3600
RESUME_EVERY = 300  # and how long an unfinished routing must sit still before it is taken up again
REFETCH_EVERY = 300  # how often held-for-address orders are looked at; each has its own backoff on top
ARCHIVE_EVERY = 3600  # closed orders leave Redis after days: an hour late is nothing
DRIFT_EVERY = 6 * 3600  # platforms' own numbers drift slowly (manual edits in seller centre, their bugs)


def _seconds(name: str, default: float) -> float:
    """Polling intervals ops (and tests) may shorten; read when the schedule is built, not at import."""
    import os

    return float(os.environ.get(name, default))



def beat_schedule() -> dict[str, dict[str, Any]]:
    """One sync entry per enabled shop at its configured interval, plus a daily reconciliation sweep,
    and per seller a sweep for routings that stalled (see OrderStore.stalled).

    Each entry expires after its own interval, so a backlog after an outage never runs the same
    shop's sync many times over. A seller file with errors is logged (by workers.config_cache) and left
    out, not fatal; so is a platform shop configured under two sellers.
    """
    import structlog

    from connectors.registry import PLATFORMS
    from workers.config_cache import all_sellers

    poll = _seconds("ORDERHUB_SHIPMENT_POLL_SECONDS", 60)
    inventory = _seconds("ORDERHUB_INVENTORY_SECONDS", 300)
    schedule: dict[str, dict[str, Any]] = {}
    for cfg in all_sellers().values():  # a broken file's seller, and a shop configured twice, are left out
        for shop in cfg.shops:
            if not shop.enabled:
                continue
            if shop.platform not in PLATFORMS:
                structlog.get_logger().warning("shop.skipped", seller=cfg.seller, shop=shop.shop_id,
                                               reason=f"no {shop.platform} connector in this version")
                continue
            args = (cfg.seller, shop.shop_id)
            schedule[f"sync:{cfg.seller}:{shop.shop_id}"] = {
                "task": "workers.tasks.sync_shop", "schedule": float(shop.poll_interval_seconds),
                "args": args, "options": {"expires": float(shop.poll_interval_seconds), "queue": "ingest"},
            }
            schedule[f"reconcile:{cfg.seller}:{shop.shop_id}"] = {
                "task": "workers.tasks.reconcile_shop", "schedule": float(RECONCILE_EVERY),
                "args": args, "options": {"expires": 3600.0, "queue": "ingest"},
            }
            stock_every = _seconds("ORDERHUB_STOCK_SECONDS", cfg.stock.interval_seconds)
            schedule[f"stock:{cfg.seller}:{shop.shop_id}"] = {
                "task": "workers.tasks.sync_stock", "schedule": stock_every, "args": args,
                "options": {"expires": stock_every, "queue": "stock"}}
            schedule[f"stock-drift:{cfg.seller}:{shop.shop_id}"] = {
                "task": "workers.tasks.check_stock_drift", "schedule": float(DRIFT_EVERY), "args": args,
                "options": {"expires": 3600.0, "queue": "stock"}}
        resume = _seconds("ORDERHUB_RESUME_SECONDS", RESUME_EVERY)
        schedule[f"resume:{cfg.seller}"] = {
            "task": "workers.tasks.resume_stalled", "schedule": resume, "args": (cfg.seller, resume),
            "options": {"expires": resume, "queue": "route"}}
        archive = _seconds("ORDERHUB_ARCHIVE_SECONDS", ARCHIVE_EVERY)
        schedule[f"archive:{cfg.seller}"] = {
            "task": "workers.tasks.archive_closed", "schedule": archive, "args": (cfg.seller,),
            "options": {"expires": archive, "queue": "route"}}
        schedule[f"stock-snapshot:{cfg.seller}"] = {
            "task": "workers.tasks.snapshot_stock", "schedule": archive, "args": (cfg.seller,),
            "options": {"expires": archive, "queue": "stock"}}
        refetch = _seconds("ORDERHUB_REFETCH_SECONDS", REFETCH_EVERY)
        schedule[f"refetch:{cfg.seller}"] = {
            "task": "workers.tasks.refetch_withheld", "schedule": refetch, "args": (cfg.seller,),
            "options": {"expires": refetch, "queue": "ingest"}}
        for wh in cfg.warehouses:
            if not wh.enabled:
                continue
            args = (cfg.seller, wh.id)
            schedule[f"shipments:{cfg.seller}:{wh.id}"] = {
                "task": "workers.tasks.poll_shipments", "schedule": poll, "args": args,
                "options": {"expires": poll, "queue": "tracking"}}
            schedule[f"inventory:{cfg.seller}:{wh.id}"] = {
                "task": "workers.tasks.pull_inventory", "schedule": inventory, "args": args,
                "options": {"expires": inventory, "queue": "stock"}}
    return schedule


def broker_settings(url: str | None = None) -> dict[str, Any]:
    """The Celery settings for the broker at `url` (default: REDIS_URL, or the embedded server), Sentinel
    options included: every app that sends or runs Orderhub's tasks (the workers, the demo, the benches)
    starts from these."""
    from orderhub.runtime.redisconn import broker_transport_options, celery_url, redis_url

    url = url or redis_url()
    return celery_settings(celery_url(url), transport_options=broker_transport_options(url))


@app.on_configure.connect
def _configure(sender: Celery, **_: Any) -> None:
    from orderhub.runtime.logs import ensure_logging

    ensure_logging()
    sender.conf.update(broker_settings())
    sender.conf.beat_schedule = beat_schedule()
