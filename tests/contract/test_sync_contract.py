"""The contract every platform connector meets, over real HTTP against its sandbox emulator.

Parametrized over the connector registry: incremental sync stores every order exactly once in its
latest version despite late updates and duplicated page entries; a second sync writes nothing; a
wrong secret is an authentication error naming the shop, with no secret anywhere; malformed
payloads are held with the raw bundle kept while every other order is stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from structlog.testing import capture_logs

from connectors.ratelimit import RateLimiter
from connectors.registry import PLATFORMS
from pipeline.errors import AuthenticationFailed
from pipeline.identity import order_key
from pipeline.model import HoldReason
from pipeline.ports import ShopRef
from pipeline.store import UpsertResult
from pipeline.sync import sync_orders
from tests.contract.harness import HARNESSES, Harness

STEP = timedelta(hours=21)  # five incremental syncs after the first: each order changes between some of them
HISTORY = timedelta(hours=84)  # orders are placed over 54 h and change for up to ~30 h after that


def test_every_registered_connector_has_a_contract_harness():
    assert sorted(PLATFORMS) == sorted(HARNESSES)


@pytest.fixture(params=sorted(PLATFORMS))
def harness(request) -> Harness:
    return HARNESSES[request.param]


def wire(harness: Harness, emulator, redis_client, prefix, **shop_kw):
    shop, secrets = harness.shop(emulator, **shop_kw)
    connector = PLATFORMS[harness.platform]
    client = connector.client(shop, secrets, RateLimiter(redis_client, prefix, max_wait=5))
    return connector, client, ShopRef(seller="acme", platform=harness.platform, shop_id=shop.shop_id)


def play_history(store, connector, client, ref, clock):
    """Sync, let time pass, sync again, ... until every scripted event is visible and read."""
    reports = [sync_orders(store, connector, client, ref, now=clock.now(), lookback=timedelta(days=3))]
    elapsed = timedelta(0)
    while elapsed < HISTORY:
        clock.advance(STEP.total_seconds())
        elapsed += STEP
        reports.append(sync_orders(store, connector, client, ref, now=clock.now()))
    clock.advance(3600)
    reports.append(sync_orders(store, connector, client, ref, now=clock.now()))
    return reports


def truth_by_key(harness, emulator, ref):
    return {order_key(harness.platform, ref.shop_id, o["id"]): o for o in emulator.ground_truth()}


def test_incremental_sync_stores_each_order_once_in_its_latest_version(harness, store, redis_client, prefix):
    with harness.emulator(orders=5000, seed=11) as emulator:
        emulator.configure_faults(duplicate_rate=0.02, seed=5)
        connector, client, ref = wire(harness, emulator, redis_client, prefix)
        reports = play_history(store, connector, client, ref, emulator.clock)

        truth = truth_by_key(harness, emulator, ref)
        assert len(truth) >= 4500  # the shop really holds thousands of orders
        late = sum(1 for o in emulator.orders.values() for e in o.events if e.visible_at > e.at)
        assert late > 50, "the scenario must include late-arriving updates"
        assert sum(r.count(UpsertResult.UNCHANGED) for r in reports) > 0  # re-read overlap and duplicates

        new = sum(r.count(UpsertResult.NEW) for r in reports)
        assert new == len(truth), "every order stored exactly once"
        assert sum(store.status_counts("acme").values()) == len(truth)
        wrong = []
        for key, expected in truth.items():
            stored = store.get("acme", key)
            if stored is None or stored.order is None or stored.hold is not None:
                wrong.append((key, "missing or held"))
            elif stored.order.updated_at != datetime.fromisoformat(expected["updated_at"]).replace(microsecond=0):
                wrong.append((key, f"stored {stored.order.updated_at} != latest {expected['updated_at']}"))
        assert wrong == []

        timeline_before = sum(len(store.timeline("acme", k)) for k in list(truth)[:300])
        again = sync_orders(store, connector, client, ref, now=emulator.clock.now())
        assert again.count(UpsertResult.NEW) == again.count(UpsertResult.UPDATED) == 0
        # ...and re-reading the whole history (what a reconciliation sweep does) writes nothing either.
        full = sync_orders(store, connector, client, ref, now=emulator.clock.now(),
                           since=reports[0].since, move_cursor=False)
        assert full.seen >= len(truth)
        assert full.count(UpsertResult.UNCHANGED) == full.seen
        assert sum(len(store.timeline("acme", k)) for k in list(truth)[:300]) == timeline_before


def test_wrong_secret_is_the_platforms_own_error_and_names_the_shop_without_the_secret(
    harness, store, redis_client, prefix
):
    with harness.emulator(orders=20) as emulator:
        wrong = harness.wrong_secrets()
        connector, client, ref = wire(harness, emulator, redis_client, prefix, secrets=wrong)
        with capture_logs() as logs, pytest.raises(AuthenticationFailed) as err:
            sync_orders(store, connector, client, ref, now=emulator.clock.now())
        message = str(err.value)
        assert ref.shop_id in message
        for value in wrong.values():
            if len(value) >= 6:
                assert value not in message
                assert value not in repr(logs)
        counters = emulator.counters.snapshot()
        assert sum(c.get("auth_failures", 0) for c in counters.values()) >= 1  # the platform refused it
        assert store.cursor("acme", ref.shop_id) is None


def test_malformed_payloads_are_held_with_raw_kept_and_the_rest_stored(harness, store, redis_client, prefix):
    with harness.emulator(orders=2000, seed=23) as emulator:
        emulator.configure_faults(malformed_rate=0.01, seed=9)
        connector, client, ref = wire(harness, emulator, redis_client, prefix)
        report = sync_orders(store, connector, client, ref, now=emulator.clock.now(), lookback=timedelta(days=3))

        # Orders changed after the sync horizon (Amazon: two minutes ago) are the next sync's to read.
        truth = {k: o for k, o in truth_by_key(harness, emulator, ref).items()
                 if datetime.fromisoformat(o["updated_at"]) < report.until}
        malformed = {k for k, o in truth.items() if harness.malformed(emulator, o["id"])}
        assert len(malformed) >= 5
        assert report.held_invalid == len(malformed)
        held = set(store.holds("acme", HoldReason.INVALID_PAYLOAD)[HoldReason.INVALID_PAYLOAD])
        assert held == malformed
        for key in malformed:
            stored = store.get("acme", key)
            assert stored.raw and truth[key]["id"].encode() in stored.raw
            assert "." in stored.hold.detail or "[" in stored.hold.detail  # names a field path
        for key in set(truth) - malformed:
            stored = store.get("acme", key)
            assert stored is not None and stored.order is not None and stored.hold is None
