"""Every limit a task can run or wait for stays under the broker's visibility timeout, or Redis
hands the message to a second worker while the first still holds it."""

import pytest

from workers.app import Timings, celery_settings


@pytest.mark.parametrize("vt", [30, 60, 600, 1800, 7200])
def test_run_time_plus_longest_countdown_fits_inside_the_visibility_timeout(vt):
    t = Timings(vt)
    assert 0 < t.soft_time_limit < t.task_time_limit
    assert t.task_time_limit + t.max_countdown < t.visibility_timeout


def test_production_defaults_and_the_env_override(monkeypatch):
    monkeypatch.delenv("ORDERHUB_VISIBILITY_TIMEOUT", raising=False)
    settings = celery_settings("redis://127.0.0.1:6379/0")
    assert settings["visibility_timeout"] == settings["broker_transport_options"]["visibility_timeout"] == 1800
    assert (settings["task_time_limit"], Timings().max_countdown) == (300, 600)
    monkeypatch.setenv("ORDERHUB_VISIBILITY_TIMEOUT", "60")
    settings = celery_settings("redis://127.0.0.1:6379/0")
    assert settings["broker_transport_options"]["visibility_timeout"] == 60
    assert settings["task_time_limit"] == 15
