"""`orderhub order show KEY --raw` without `--pii` shows no buyer value (issue 21: AliExpress
`buyer_signer_fullname` and TEMU `shipping.addressLineAll` got through a deny-list).

Every mappable fixture of every platform is stored and shown through the CLI. The buyer fields are named
here, independently of the connectors' allow-lists, so a connector that lists one of them fails its test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from connectors.registry import PLATFORMS, get_connector
from orderhub.cli import main
from orderhub.runtime.logs import MASK, SENSITIVE_KEYS
from orderhub.runtime.raw_view import mask_unlisted
from pipeline.errors import InvalidModel, MappingError
from tests.connectors.fixtures import FIXTURES, shop
from tests.factories import received

# Where each platform's raw bundle holds the buyer: names, logins, phones, e-mails, street lines, messages.
BUYER_FIELDS = {
    "aliexpress": {"order.buyer_signer_fullname", "order.buyer_login_id", "address.contact_person", "address.address",
                   "address.address2", "address.detail_address", "address.localized_address", "address.mobile_no",
                   "address.phone_number"},
    "amazon": {"order.BuyerInfo.BuyerEmail", "order.BuyerInfo.BuyerName", "address.Name", "address.AddressLine1",
               "address.AddressLine2", "address.Phone", "address.ShippingAddress.Name",
               "address.ShippingAddress.AddressLine1", "address.ShippingAddress.AddressLine2",
               "address.ShippingAddress.Phone"},
    "shein": {"address.firstName", "address.middleName", "address.lastName", "address.street", "address.address",
              "address.addressExt", "address.phone", "address.email", "address.taxNo"},
    "temu": {"shipping.receiptName", "shipping.receiptAdditionalName", "shipping.mobile", "shipping.backupMobile",
             "shipping.mail", "shipping.addressLine1", "shipping.addressLine2", "shipping.addressLine3",
             "shipping.addressLineAll", "shipping.addressExtra.firstName", "shipping.addressExtra.lastName"},
    "tiktok": {"order.buyer_email", "order.buyer_message", "order.user_id", "order.recipient_address.full_address",
               "order.recipient_address.phone_number", "order.recipient_address.name",
               "order.recipient_address.first_name", "order.recipient_address.last_name",
               "order.recipient_address.address_detail", "order.recipient_address.address_line1",
               "order.recipient_address.address_line2"},
}
# The order id and status each platform's bundle names, shown in every raw view.
ID_AND_STATUS = {
    "aliexpress": ("order.order_id", "order.order_status"),
    "amazon": ("order.AmazonOrderId", "order.OrderStatus"),
    "shein": ("order.orderNo", "order.orderStatus"),
    "temu": ("order.parentOrderMap.parentOrderSn", "order.parentOrderMap.parentOrderStatus"),
    "tiktok": ("order.id", "order.status"),
}


def values_at(doc: Any, path: str) -> Iterator[Any]:
    """Every value at a dotted path (a list's items share its path)."""
    if isinstance(doc, list):
        for item in doc:
            yield from values_at(item, path)
        return
    if not path:
        yield doc
        return
    head, _, rest = path.partition(".")
    if isinstance(doc, dict) and head in doc:
        yield from values_at(doc[head], rest)


def buyer_values(platform: str, raw: dict) -> set[str]:
    """The buyer's values in a bundle, as text; empty and fully masked ones ("***") say nothing."""
    found = {str(v) for path in BUYER_FIELDS[platform] for v in values_at(raw, path) if v not in (None, "", False)}
    return {v for v in found if v.strip("*")}


def read_fixture(platform: str, name: str) -> dict:
    """A fixture as the platform's client reads it (SHEIN keeps every float as its decimal text)."""
    return get_connector(platform).read_payload((FIXTURES / platform / f"{name}.json").read_bytes())


def mapped_fixtures(platform: str) -> list[tuple[str, dict, Any]]:
    connector = get_connector(platform)
    out = []
    for path in sorted((FIXTURES / platform).glob("*.json")):
        raw = read_fixture(platform, path.stem)
        try:
            out.append((path.stem, raw, connector.map_order(raw, shop(platform))))
        except (MappingError, InvalidModel):
            continue  # a broken fixture never becomes an order to show
    return out


@pytest.fixture
def cli_env(redis_url, prefix, monkeypatch):
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("ORDERHUB_PREFIX", prefix)
    return prefix


@pytest.mark.parametrize("platform", sorted(BUYER_FIELDS))
def test_raw_view_shows_no_buyer_value_but_the_order_id_and_status(platform, cli_env, store):
    fixtures = mapped_fixtures(platform)
    assert fixtures, f"no {platform} fixture maps"
    seen_pii = 0
    for n, (name, raw, order) in enumerate(fixtures):
        seller = f"seller-{n}"  # one per fixture: fixtures share order ids, and a store keeps the newest bundle
        store.upsert(seller, [received(order, raw=raw)])
        pii = buyer_values(platform, raw)
        seen_pii += len(pii)
        masked = CliRunner().invoke(main, ["order", "show", order.key, "--seller", seller, "--raw"])
        assert masked.exit_code == 0, masked.output
        leaked = sorted(v for v in pii if v in masked.output)
        assert not leaked, f"{platform}/{name}: buyer values shown without --pii: {leaked}"
        for path in ID_AND_STATUS[platform]:
            (value,) = set(values_at(raw, path))
            shown = f'"{path.rsplit(".", 1)[1]}": {orjson.dumps(value).decode()}'
            assert shown in masked.output, f"{platform}/{name}: {shown} not in the raw view"
        full = CliRunner().invoke(main, ["order", "show", order.key, "--seller", seller, "--raw", "--pii"])
        assert full.exit_code == 0, full.output
        missing = sorted(v for v in pii if v not in full.output)
        assert not missing, f"{platform}/{name}: --pii hides {missing}"
    assert seen_pii >= 5, f"the {platform} fixtures name too few buyer values to prove anything"


def test_the_two_fields_the_review_found_are_masked(cli_env, store):
    """The reproduction: AliExpress buyer_signer_fullname and TEMU addressLineAll."""
    for platform, path in (("aliexpress", "order.buyer_signer_fullname"), ("temu", "shipping.addressLineAll")):
        raw = read_fixture(platform, "as_sent")
        (value,) = set(values_at(raw, path))
        order = get_connector(platform).map_order(raw, shop(platform))
        store.upsert("acme", [received(order, raw=raw)])
        output = CliRunner().invoke(main, ["order", "show", order.key, "--raw"]).output
        assert value not in output
        assert f'"{path.rsplit(".", 1)[1]}": "{MASK}"' in output


def test_a_field_the_platform_adds_later_is_masked(cli_env, store):
    raw = read_fixture("tiktok", "as_sent")
    raw["order"]["recipient_address"]["buyer_nickname_v2"] = "Quentin Newfield"
    raw["order"]["gift_note"] = {"text": "Happy birthday Quentin", "codes": [1, 2]}
    order = get_connector("tiktok").map_order(raw, shop("tiktok"))
    store.upsert("acme", [received(order, raw=raw)])
    output = CliRunner().invoke(main, ["order", "show", order.key, "--raw"]).output
    assert "Quentin" not in output
    assert '"buyer_nickname_v2": "***"' in output and '"gift_note": {' in output  # keys and structure stay


def test_mask_unlisted_keeps_structure_and_listed_values_only():
    raw = {"order": {"id": 7, "status": "OK", "a.b": "spoof", "lines": [{"sku": "S-1", "note": "hi"}, {"sku": "S-2"}],
                     "paid": True, "total": 9.5, "empty": "", "none": None},
           "a": {"b": "listed"}}
    safe = {"order.id", "order.status", "order.lines.sku", "a.b", "order.a.b"}
    assert mask_unlisted(raw, safe) == {
        "order": {"id": 7, "status": "OK", "a.b": MASK, "lines": [{"sku": "S-1", "note": MASK}, {"sku": "S-2"}],
                  "paid": MASK, "total": MASK, "empty": "", "none": None},
        "a": {"b": "listed"},
    }
    assert mask_unlisted(raw, set())["order"]["id"] == MASK
    assert mask_unlisted(None, safe) is None


def test_every_platform_declares_raw_fields_and_none_is_a_known_buyer_field():
    for name, connector in PLATFORMS.items():
        fields = connector.raw_safe_fields
        assert fields, f"{name} declares no raw fields: its raw view would show nothing"
        assert not fields & BUYER_FIELDS.get(name, set()), name
        sensitive = sorted(f for f in fields if f.rsplit(".", 1)[-1].lower().replace("-", "_") in SENSITIVE_KEYS)
        assert not sensitive, f"{name} lists sensitive keys as safe: {sensitive}"


def test_a_spec_with_a_malformed_raw_field_list_fails_where_it_is_declared():
    import dataclasses

    spec = get_connector("amazon")
    for bad in ({"order.id"}, frozenset({"order..id"}), frozenset({""}), frozenset({3})):
        with pytest.raises(ValueError, match="raw_safe_fields"):
            dataclasses.replace(spec, raw_safe_fields=bad)
