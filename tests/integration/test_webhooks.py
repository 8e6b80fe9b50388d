"""TikTok webhooks through `workers.webhooks` and a real worker: forged → 401 and nothing happens;
signed → the order is fetched through the API and stored within two seconds."""

from __future__ import annotations

import time

import requests
from celery import Celery

from pipeline.store import OrderStore
from tests.integration.conftest import PREFIX
from tests.integration.workers import WorkerProcess, wait_until
from workers.webhooks import make_server, serve_in_thread


def test_forged_webhook_is_refused_and_a_signed_one_gets_the_order_stored(world, monkeypatch):
    emulators, env, client, tmp = world
    monkeypatch.setenv("ORDERHUB_CONFIG", env["ORDERHUB_CONFIG"])
    broker = Celery("webhook-test", broker=env["REDIS_URL"])
    enqueued: list[str] = []

    def enqueue(seller: str, shop_id: str, external_id: str) -> None:
        enqueued.append(external_id)
        broker.send_task("workers.tasks.fetch_order", (seller, shop_id, external_id), queue="ingest")

    server = make_server(port=0, enqueue=enqueue)
    serve_in_thread(server)
    url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/acme/acme-tiktok-us"
    store = OrderStore(client, PREFIX)
    worker = WorkerProcess(env, "hooks", log_dir=tmp)
    try:
        wait_until(lambda: "ready" in worker.log_text(), 30, what="worker ready")
        tiktok = emulators["tiktok"]
        us = [oid for oid, o in tiktok.orders.items() if o.account == "7494000000000000101" and o.visible(tiktok.clock.now())]
        forged, genuine = us[0], us[1]

        assert tiktok.send_order_webhook(url, forged, forge=True) == 401
        assert enqueued == []
        time.sleep(1.0)
        assert store.get("acme", f"tiktok:acme-tiktok-us:{forged}") is None

        started = time.monotonic()
        assert tiktok.send_order_webhook(url, genuine) == 200
        wait_until(lambda: store.get("acme", f"tiktok:acme-tiktok-us:{genuine}") is not None, 2.0, interval=0.05,
                   what="the pushed order stored")
        assert time.monotonic() - started < 2.0
        assert store.get("acme", f"tiktok:acme-tiktok-us:{forged}") is None
        assert requests.post(url.replace("acme-tiktok-us", "nope"), data=b"{}", timeout=5).status_code == 404
    finally:
        worker.stop()
        server.shutdown()
        server.server_close()
