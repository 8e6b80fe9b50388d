"""A throwaway Celery app for the no-op task rate: the workers' own settings, one task that does nothing.

Started as `celery -A bench._noop worker` beside the real workers' settings, so the pipeline benchmark
can show whether batching orders into tasks beats the ceiling of one task per order.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu import Queue

QUEUE = "bench-noop"

app = Celery("orderhub-bench-noop")


@app.task(name="bench.noop", acks_late=True)
def noop() -> None:
    """Nothing: what is left is Celery's own cost per task (publish, fetch, ack)."""


@app.on_configure.connect
def _configure(sender: Celery, **_: Any) -> None:
    from workers.app import broker_settings

    settings = broker_settings()
    settings.update(task_default_queue=QUEUE, task_queues=[Queue(QUEUE)], task_routes={})
    sender.conf.update(settings)
