"""The reduced chaos run, part of the default test run: 500 orders through SIGKILLed workers, one
Redis crash, every fault kind and forged webhooks; the five loss figures must be 0. `pytest --chaos`
runs the full 100,000-order version instead (hours; see tests/chaos/runner.py)."""

from __future__ import annotations

import pytest

from tests.chaos.runner import Options, report, run

REDUCED = Options(orders=500, seed=11, kill_every=8.0, workers=3, visibility_timeout=60, webhooks=60,
                  quiet_seconds=15.0, deadline_seconds=600)


@pytest.fixture
def chaos_options(request: pytest.FixtureRequest) -> Options:
    return Options(deadline_seconds=8 * 3600) if request.config.getoption("--chaos") else REDUCED


def test_chaos_run_loses_nothing_ships_nothing_twice_or_stale_oversells_nothing_and_leaks_nothing(chaos_options):
    outcome = run(chaos_options, echo=False)
    figures = outcome.figures
    print(report(outcome))
    failures = figures.failures()
    assert failures == {"lost": 0, "submitted_more": 0, "oversold_units": 0, "stale_unflagged": 0,
                        "forged_accepted": 0, "leaked": 0}, report(outcome)
    assert not any(name.startswith("held:ADDRESS_INCOMPLETE") and "(name and street present)" in name
                   for name in figures.categories), report(outcome)
    assert figures.categories.get("run ended before quiet", 0) == 0, report(outcome)
    assert figures.seen > 0 and figures.submitted_once > 0, report(outcome)
    assert figures.malformed_held_raw > 0 and figures.forged_sent > 0, report(outcome)
    assert outcome.events["worker_kills"] >= 1 and outcome.events["redis_restarts"] == 1, report(outcome)
