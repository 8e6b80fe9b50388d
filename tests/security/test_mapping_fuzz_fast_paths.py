"""The mappings' fast paths make the same checks as the slow ones: same Order (to the byte), same refusal.

bench/normalize.py (issue G) moved some checks without dropping any: every amount of an order is checked
at once by one regex (`connectors.values.plain_amounts`: plain decimal text passes each of Money's checks),
then Money is made without running them again; AliExpress reads a time of a memoised, unambiguous hour
directly (`_instant`). Each fast path falls back to the field-by-field reading whenever it is not sure.
Here every mutated bundle of tests/security/test_mapping_fuzz.py is mapped both ways, the fast paths off
(patched to say "not sure") and on: both raise the same MappingError (path and message) or both make the
same Order, whose stored encoding is the same bytes (a "0.00" stays "0.00").
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings

from pipeline.errors import MappingError
from pipeline.model import encode
from tests.connectors.fixtures import shop
from tests.security.test_mapping_fuzz import MAPPINGS, Case, apply, cases, fixture_names, load, wire_bytes

# Each mapping's fast-path entry points, and what they answer when the fast path is off.
SLOW: dict[str, dict[str, Any]] = {
    "amazon": {"plain_amounts": lambda *args, **kwargs: None},
    "tiktok": {"plain_money": lambda *args, **kwargs: None},
    "shein": {"plain_money": lambda *args, **kwargs: None},
    "aliexpress": {"plain_money": lambda *args, **kwargs: None, "_instant": lambda text: None},
    "temu": {},  # no regex path: its amounts are integers (minor_money checks them on the integer)
}


def outcome(platform: str, raw: bytes) -> tuple[str, Any]:
    try:
        order = MAPPINGS[platform].map_raw(raw, shop(platform))
    except MappingError as exc:
        return "refused", (exc.path, exc.message)
    return "order", (order, encode(order))


def slow(platform: str) -> ExitStack:
    stack = ExitStack()
    for name, replacement in SLOW[platform].items():
        stack.enter_context(mock.patch.object(MAPPINGS[platform], name, replacement))
    return stack


def same_both_ways(platform: str, doc: Any) -> None:
    raw = wire_bytes(doc)
    fast = outcome(platform, raw)
    with slow(platform):
        reference = outcome(platform, raw)
    assert fast == reference


def fuzz(platform: str) -> Callable[..., None]:
    @settings(max_examples=200, deadline=None, derandomize=True, database=None)
    @given(case=cases(platform))
    def test(case: Case) -> None:
        doc = load(platform, case.fixture)
        for mutation in case.mutations:
            apply(doc, mutation)
        same_both_ways(platform, doc)

    test.__name__ = f"test_{platform}_fast_path_agrees_with_the_field_by_field_reading"
    return test


test_amazon_fast_path_agrees = fuzz("amazon")
test_tiktok_fast_path_agrees = fuzz("tiktok")
test_shein_fast_path_agrees = fuzz("shein")
test_aliexpress_fast_path_agrees = fuzz("aliexpress")
test_temu_fast_path_agrees = fuzz("temu")


@pytest.mark.parametrize("platform", sorted(MAPPINGS))
def test_every_fixture_maps_to_the_same_bytes_both_ways(platform):
    for name in fixture_names(platform):
        same_both_ways(platform, load(platform, name))


def test_the_fast_paths_are_taken_on_the_fixtures():
    """Not vacuous: the unmutated fixtures go through the regex path (and the AliExpress time path)."""
    from connectors import values

    calls = []
    real = values.plain_amounts

    def spy(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        calls.append(result is not None)
        return result

    with mock.patch.object(values, "plain_amounts", spy), \
            mock.patch.object(MAPPINGS["amazon"], "plain_amounts", spy):
        for platform in ("amazon", "tiktok", "shein", "aliexpress"):
            for name in fixture_names(platform):
                outcome(platform, wire_bytes(load(platform, name)))
    assert calls.count(True) >= 4, calls
