"""TikTok, TEMU and SHEIN webhooks through the ingress (`workers.ingress`) and a real worker: forged → 401 and
nothing happens; signed → the order is fetched through the API and stored within two seconds."""

from __future__ import annotations

import time
from functools import partial

import pytest
import requests
from celery import Celery

from pipeline.identity import order_key
from pipeline.store import OrderStore
from tests.integration.conftest import PREFIX
from tests.integration.workers import WorkerProcess, wait_until
from workers.ingress import make_app, serve_in_thread
from workers.webhooks import handle_push

# platform -> (shop id in tests/integration/conftest.py, the emulator account that shop is)
PUSHING = {
    "tiktok": ("acme-tiktok-us", "7494000000000000101"),
    "temu": ("acme-temu-us", "634418210001"),
    "shein": ("acme-shein-us", "ORDERHUBDEMOSHEINUS01"),
}


@pytest.mark.parametrize("platform", sorted(PUSHING))
def test_forged_webhook_is_refused_and_a_signed_one_gets_the_order_stored(platform, world, monkeypatch):
    emulators, env, client, tmp = world
    shop_id, account = PUSHING[platform]
    monkeypatch.setenv("ORDERHUB_CONFIG", env["ORDERHUB_CONFIG"])
    broker = Celery("webhook-test", broker=env["REDIS_URL"])
    enqueued: list[str] = []

    def enqueue(seller: str, shop_id: str, external_id: str) -> None:
        enqueued.append(external_id)
        broker.send_task("workers.tasks.fetch_order", (seller, shop_id, external_id), queue="ingest")

    # The replay memory on the world's Redis (without it, handle_push would use REDIS_URL or the embedded one).
    server = serve_in_thread(make_app(partial(handle_push, enqueue=enqueue, redis=client, prefix=PREFIX)))
    url = f"http://127.0.0.1:{server.port}/webhooks/acme/{shop_id}"
    store = OrderStore(client, PREFIX)
    worker = WorkerProcess(env, "hooks", log_dir=tmp)
    try:
        wait_until(lambda: "ready" in worker.log_text(), 30, what="worker ready")
        emulator = emulators[platform]
        listed = [o["id"] for o in emulator.ground_truth() if o["account"] == account]
        forged, genuine = listed[0], listed[1]

        def stored(oid: str):
            return store.get("acme", order_key(platform, shop_id, oid))

        assert emulator.send_order_webhook(url, forged, forge=True) == 401
        assert enqueued == []
        time.sleep(1.0)
        assert stored(forged) is None

        started = time.monotonic()
        assert emulator.send_order_webhook(url, genuine) == 200
        wait_until(lambda: stored(genuine) is not None, 2.0, interval=0.05, what="the pushed order stored")
        assert time.monotonic() - started < 2.0
        assert stored(forged) is None and enqueued == [genuine]
        assert requests.post(url.replace(shop_id, "nope"), data=b"{}", timeout=5).status_code == 404
    finally:
        worker.stop()
        server.stop()
