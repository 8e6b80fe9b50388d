"""The shared sandbox framework: server lifecycle, keep-alive, clock, buckets, control API, demo shops."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests

from sandbox import DEMO_SHOPS, AmazonEmulator, SandboxClock, TikTokEmulator, start_emulators
from sandbox.core.buckets import CallCounters, RateLimit, RateLimiter
from sandbox.core.demo_accounts import load_demo_secrets
from tests.sandbox.conftest import START


def test_server_starts_on_an_os_chosen_port_and_stops(clock):
    emulator = AmazonEmulator(clock=clock, orders=5).start()
    url = emulator.url
    assert url.startswith("http://127.0.0.1:") and int(url.rsplit(":", 1)[1]) > 0
    assert requests.get(url + "/_sandbox/clock", timeout=2).status_code == 200
    emulator.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/_sandbox/clock", timeout=2)
    with pytest.raises(RuntimeError):
        _ = emulator.url


def test_two_emulators_get_different_ports_and_share_nothing(clock):
    with AmazonEmulator(clock=clock, orders=3) as one, AmazonEmulator(clock=clock, orders=3) as two:
        assert one.url != two.url
        one.configure_faults(error_rate=1.0)
        assert two.faults.config.error_rate == 0.0


def test_keep_alive_requests_are_fast_and_well_framed(amazon):
    http = requests.Session()
    http.get(amazon.url + "/_sandbox/clock")
    started = time.perf_counter()
    for _ in range(20):
        reply = http.get(amazon.url + "/_sandbox/clock")
        assert reply.status_code == 200 and reply.json()["now"].startswith("2025-03-03T12:00")
    per_request = (time.perf_counter() - started) / 20
    assert per_request < 0.02, f"{per_request * 1000:.1f} ms per keep-alive request (Nagle?)"
    assert len(http.adapters["http://"].poolmanager.pools) == 1


def test_unknown_path_answers_the_platform_404(amazon, tiktok):
    assert requests.get(amazon.url + "/nope").status_code == 404
    reply = requests.get(tiktok.url + "/nope/202309/x")
    assert reply.status_code == 404 and reply.json()["code"] == 36009009


def test_clock_advances_scales_and_freezes():
    clock = SandboxClock(start=START, factor=0)
    assert clock.now() == START and clock.now().tzinfo is not None
    clock.advance(90)
    assert clock.now() == START + timedelta(seconds=90)
    clock.scale(3600)  # an hour per real second
    time.sleep(0.05)
    moved = clock.now() - (START + timedelta(seconds=90))
    assert timedelta(seconds=100) < moved < timedelta(seconds=900)
    clock.scale(0)
    frozen = clock.now()
    time.sleep(0.02)
    assert clock.now() == frozen


def test_token_bucket_burst_then_refill_on_the_sandbox_clock():
    clock = SandboxClock(start=START, factor=0)
    limiter = RateLimiter(clock, {"op": RateLimit(0.5, 3)})
    assert [limiter.take("seller", "op").allowed for _ in range(4)] == [True, True, True, False]
    assert limiter.take("other-seller", "op").allowed, "buckets are per account"
    refused = limiter.take("seller", "op")
    assert not refused.allowed and refused.retry_after == pytest.approx(2.0)
    clock.advance(2)
    assert limiter.take("seller", "op").allowed
    assert not limiter.take("seller", "op").allowed
    assert limiter.take("seller", "unmetered").allowed


def test_call_counters_are_per_operation():
    counters = CallCounters()
    counters.add("getOrders", "calls", 3)
    counters.add("getOrders", "throttled")
    assert counters.snapshot()["getOrders"]["calls"] == 3
    assert counters.get("getOrders", "throttled") == 1 and counters.get("nothing") == 0


def test_control_api_over_http(amazon):
    base = amazon.url + "/_sandbox"
    assert requests.post(base + "/seed", json={"count": 40, "seed": 3}).json()["count"] == 40
    assert len(amazon.orders) == 40
    again = requests.post(base + "/seed", json={"count": 40, "seed": 3}).json()
    assert again["visible"] == len(amazon.ground_truth()) and len(amazon.orders) == 40
    requests.post(base + "/clock", json={"advance": 10 * 86400})
    assert requests.post(base + "/seed", json={"count": 40, "seed": 3, "anchor": "now"}).json()["visible"] < 40
    before = requests.get(base + "/clock").json()
    after = requests.post(base + "/clock", json={"advance": 3600}).json()
    assert after["unix"] - before["unix"] == 3600 and after["start"] == before["start"]
    assert requests.post(base + "/clock", json={"scale": 60}).json()["scale"] == 60
    requests.post(base + "/clock", json={"scale": 0})
    assert requests.post(base + "/faults", json={"error_rate": 0.5, "seed": 9}).json()["error_rate"] == 0.5
    assert requests.post(base + "/faults", json={}).json()["error_rate"] == 0.0
    assert requests.post(base + "/faults", json={"nonsense": 1}).status_code == 400
    truth = requests.get(base + "/orders").json()
    assert truth and {"id", "status", "updated_at"} <= set(truth[0])
    assert requests.get(base + "/counters").json() == {}
    assert requests.get(base + "/pushed").json() == []


def test_demo_shops_match_the_demo_secrets_file():
    tables = {name: table for name, table in load_demo_secrets().items()
              if not name.startswith(("fourpx-", "shipbob-"))}  # warehouses are not shops
    assert set(tables) == set(DEMO_SHOPS)
    for name, shop in DEMO_SHOPS.items():
        creds = shop.credentials
        for key, value in tables[name].items():
            expected = getattr(creds, key)
            assert (list(expected) if isinstance(expected, tuple) else expected) == value, (name, key)
    countries = {c for shop in DEMO_SHOPS.values() for c in shop.countries}
    assert countries == {"US", "GB", "DE", "FR", "JP", "MX"}


def test_start_emulators_shares_one_clock_and_rejects_unknown_platforms():
    with pytest.raises(ValueError, match=r"unknown sandbox platform\(s\) \['ebay'\]; known: \['aliexpress', "):
        start_emulators(["amazon", "ebay"])
    emulators = start_emulators(["amazon", "tiktok"], seed=2, orders=20)
    try:
        assert isinstance(emulators["tiktok"], TikTokEmulator)
        assert emulators["amazon"].clock is emulators["tiktok"].clock
    finally:
        for emulator in emulators.values():
            emulator.stop()
