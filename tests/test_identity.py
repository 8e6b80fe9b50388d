"""pipeline/identity.py: an order's names are built and read back one way, and never change.

Warehouses hold outbound orders under the references issued before, and stored orders remember the
digest of their list row: the exact strings are pinned here.
"""

from __future__ import annotations

import pytest

from pipeline.identity import (
    OrderRef,
    index_reference,
    order_key,
    outbound_reference,
    parse_order_key,
    reference_owner,
    row_digest,
)


def test_an_order_key_is_built_and_read_back():
    key = order_key("amazon", "acme-us", "112-3456789-1234567")
    assert key == "amazon:acme-us:112-3456789-1234567"
    assert parse_order_key(key) == OrderRef("amazon", "acme-us", "112-3456789-1234567")
    assert parse_order_key(key).key == key


def test_the_external_id_starts_after_the_last_colon_as_references_always_read_it():
    assert parse_order_key("shein:shop:a:b:GSH1") == OrderRef("shein", "shop:a:b", "GSH1")


@pytest.mark.parametrize("key", ["", "amazon", "amazon:shop", "amazon::1", ":shop:1", "amazon:shop:"])
def test_a_string_that_is_not_an_order_key_is_refused(key):
    with pytest.raises(ValueError):
        parse_order_key(key)


def test_outbound_references_keep_the_format_warehouses_already_hold():
    assert outbound_reference("amazon:acme-us:112-3456789-1234567", "4px-us-nj") == \
        "OH-AMA-112-3456789-1234567-f7887cd768574b03"
    assert outbound_reference("shein:shop:GSH/1 2:3", "shipbob-us") == "OH-SHE-3-107f81c97ba2c495"
    long = outbound_reference("tiktok:shop-1:5769" + "9" * 60, "east")
    assert long == "OH-TIK-57699999999999999999999999-922581922ac32de5" and len(long) == 50
    assert outbound_reference("amazon:acme-us:1", "a") != outbound_reference("amazon:acme-us:1", "b")


def test_list_row_digests_keep_their_value():
    assert row_digest({"b": 1, "a": [1, "x"]}) == "5fecd77d5ba7cca06fd1b7cf909318df"
    assert row_digest({"a": [1, "x"], "b": 1}) == row_digest({"b": 1, "a": [1, "x"]})
    assert row_digest({"a": object()}) is None  # not JSON data: never known, always read


def test_a_reference_leads_back_to_its_order(store):
    pipe = store.redis.pipeline()
    index_reference(pipe, store.prefix, "acme", "OH-AMA-1-abc", "amazon:shop-1:1")
    pipe.execute()
    assert reference_owner(store, "acme", "OH-AMA-1-abc") == "amazon:shop-1:1"
    assert reference_owner(store, "acme", "OH-AMA-2-def") is None
    assert reference_owner(store, "globex", "OH-AMA-1-abc") is None
