"""Task bodies called directly (not through a broker): what a shop's auth failure and exhausted
retries leave behind. The broker path itself is covered by the end-to-end test."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pipeline import keys
from pipeline.errors import UpstreamUnavailable
from pipeline.model import HoldReason
from pipeline.store import OrderStore
from tests.factories import make_order, received
from tests.integration.conftest import PREFIX


@pytest.fixture
def task_env(world, monkeypatch):
    emulators, env, client, tmp = world
    for name in ("REDIS_URL", "ORDERHUB_PREFIX", "ORDERHUB_CONFIG"):
        monkeypatch.setenv(name, env[name])
    return emulators, client


def test_an_auth_failure_stops_the_shop_once_and_sync_now_clears_it(task_env, tmp_path, monkeypatch):
    emulators, client = task_env
    from workers import tasks

    seller_file = Path(os.environ["ORDERHUB_CONFIG"]) / "acme.toml"
    wrong = seller_file.parent / "secrets" / "wrong.toml"  # secrets live under the config folder
    wrong.parent.mkdir(exist_ok=True)
    wrong.write_text('[tiktok]\napp_secret = "not-the-secret-0000000000"\n')
    wrong.chmod(0o600)
    text = seller_file.read_text()
    # Point the TikTok shop's app_secret at a wrong value (the rest of the line becomes a comment).
    seller_file.write_text(text.replace('app_secret = "file:', f'app_secret = "file:{wrong}#tiktok.app_secret" #', 1))
    first = tasks.sync_shop("acme", "acme-tiktok-us")
    assert first == {"auth_failed": True}
    assert client.exists(keys.auth_failed(PREFIX, "acme", "acme-tiktok-us"))
    second = tasks.sync_shop("acme", "acme-tiktok-us")
    assert "authentication failed earlier" in second["skipped"]
    calls = emulators["tiktok"].counters.snapshot()
    assert sum(c.get("auth_failures", 0) for c in calls.values()) == 1  # refused once, not retried in a loop


def test_exhausted_retries_hold_the_order_with_the_error(task_env):
    _, client = task_env
    from workers import common

    store = OrderStore(client, PREFIX)
    order = make_order(5)
    store.upsert("acme", [received(order)])

    class Exhausted:
        max_retries = 3

        class request:  # noqa: N801 - mimics celery's Task.request
            retries = 3

    def failing() -> None:
        raise UpstreamUnavailable("shipbob createOrder: 503")

    common._with_retry(Exhausted(), "acme", order.key, failing)
    hold = store.get("acme", order.key).hold
    assert hold.reason is HoldReason.RETRIES_EXHAUSTED and "503" in hold.detail


def test_a_soft_time_limit_is_retried_and_held_when_retries_run_out_never_dropped(task_env):
    """Found by the chaos run: a platform read timeout outlasts a short soft time limit; Celery then
    failed the task and acked its message, so the submission was silently dropped."""
    from celery.exceptions import SoftTimeLimitExceeded

    _, client = task_env
    from workers import common

    store = OrderStore(client, PREFIX)
    order = make_order(6)
    store.upsert("acme", [received(order)])

    class Slow:
        max_retries = 3

        class request:  # noqa: N801 - mimics celery's Task.request
            retries = 0

        def retry(self, exc, countdown):
            return RuntimeError(f"retry after {type(exc).__name__}")

    def cut_off() -> None:
        raise SoftTimeLimitExceeded()

    with pytest.raises(RuntimeError, match="retry after SoftTimeLimitExceeded"):
        common._with_retry(Slow(), "acme", order.key, cut_off)
    Slow.request.retries = 3
    common._with_retry(Slow(), "acme", order.key, cut_off)
    assert store.get("acme", order.key).hold.reason is HoldReason.RETRIES_EXHAUSTED


def test_one_order_failing_unexpectedly_is_held_and_the_rest_of_the_batch_still_goes(task_env, monkeypatch):
    """Found by the chaos run: one order raising AttributeError failed its whole submit batch, and
    the 53 other routed orders in it were never sent."""
    _, client = task_env
    from pipeline import dispatch
    from workers import tasks

    store = OrderStore(client, PREFIX)
    orders = [make_order(n) for n in range(10, 15)]
    store.upsert("acme", [received(o) for o in orders])
    sent = []

    def submit(store, ledger, cfg, key, clients, **batch):  # a dispatch batch passes its reads and records
        if key == orders[1].key:
            raise AttributeError("'NoneType' object has no attribute 'name'")
        sent.append(key)
        return {}

    monkeypatch.setattr(dispatch, "submit_order", submit)
    assert tasks.submit_orders("acme", [o.key for o in orders]) == len(orders)
    assert sent == [o.key for i, o in enumerate(orders) if i != 1]
    hold = store.get("acme", orders[1].key).hold
    assert hold.reason is HoldReason.INTERNAL_ERROR and "AttributeError" in hold.detail
    assert "NoneType" not in hold.detail  # the error type only: messages can carry payload values


def test_routings_that_stalled_with_no_message_left_are_taken_up_again(task_env, monkeypatch):
    """Found by the reduced chaos run under load: a worker SIGKILLed between the broker's pop of a
    submit message and its unacked record loses the message (kombu's known window); the order sat
    "routed" for good, its platform copy unchanged, so no re-read would bring it back."""
    _, client = task_env
    from workers import tasks

    store = OrderStore(client, PREFIX)
    stuck_received, stuck_routed, submitted, held = (make_order(n) for n in range(20, 24))
    store.upsert("acme", [received(o) for o in (stuck_received, stuck_routed, submitted, held)])
    store.set_stage("acme", stuck_routed.key, "routed")
    store.set_stage("acme", submitted.key, "submitted")
    store.hold("acme", held.key, HoldReason.INSUFFICIENT_STOCK, "0 of 1 free")
    routed = []
    monkeypatch.setattr(tasks.route_orders, "apply_async", lambda args, queue: routed.append((args, queue)))

    assert tasks.resume_stalled("acme", 3600) == 0  # all moved within the hour: still on their way
    resting = keys.resume_resting(PREFIX, "acme")
    assert client.pttl(resting) > 0  # a sweep rests ten times as long as it took...
    assert tasks.resume_stalled("acme", 0) == 0  # ...so one asked for at once does nothing
    deadline = time.monotonic() + 10
    while client.exists(resting) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert tasks.resume_stalled("acme", 0) == 2
    ((seller, resumed), queue), = routed
    assert seller == "acme" and queue == "route"
    assert sorted(resumed) == sorted([stuck_received.key, stuck_routed.key])


def test_stock_push_requests_share_one_queued_task_per_shop_until_it_starts(task_env, monkeypatch):
    """Every routing batch asks every shop for a stock push; under load that was thousands of queued
    tasks. Requests made while one is queued are noted for it instead."""
    _, client = task_env
    from workers import stock, tasks
    from workers.config_cache import seller_config

    queued = []
    monkeypatch.setattr(tasks.sync_stock, "apply_async", lambda args, queue: queued.append((args, queue)))
    for skus in (["MUG-01"], ["LAMP-02"], ["MUG-01", "RUG-03"]):
        stock._enqueue_stock_sync("acme", skus, urgent=True)
    shops = [s.shop_id for s in seller_config("acme").shops if s.enabled]
    assert sorted(args[1] for args, _ in queued) == sorted(shops) and {q for _, q in queued} == {"stock"}
    _, skus_key, queued_key = keys.stock_requests(PREFIX, "acme", shops[0])
    assert {s.decode() for s in client.smembers(skus_key)} == {"MUG-01", "LAMP-02", "RUG-03"}

    args, _ = next(q for q in queued if q[0][1] == shops[0])
    tasks.sync_stock(*args)  # takes on all three requests: nothing left noted, nothing queued
    assert not client.exists(skus_key) and not client.exists(queued_key)
    queued.clear()
    stock._enqueue_stock_sync("acme", ["MUG-01"], urgent=True)
    assert [a[1] for a, _ in queued] == [shops[0]]  # the others still have theirs queued
