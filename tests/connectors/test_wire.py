"""The bytes path every order takes in sync: stored bundle bytes → wire Structs → Order.

Each platform's `map_raw` must give exactly what `map_order` gives for the same bundle, and a
mistyped or missing field must still be a MappingError naming its path in the bundle. The
AliExpress hour-offset memo is checked against zoneinfo on the two days a Pacific clock changes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import orjson
import pytest

from connectors.aliexpress.mapping import PACIFIC, readings
from connectors.fields import decode_bundle
from connectors.registry import PLATFORMS
from connectors.tiktok import wire as tiktok_wire
from pipeline.errors import MappingError
from pipeline.sync import stored_bytes
from tests.connectors.fixtures import FIXTURES, shop

TIKTOK = msgspec.json.Decoder(tiktok_wire.Bundle)


# Amazon's published sandbox order (as_sent) is dated 1970-01-19, outside the model's 2000 to 2100: it
# is held at order.PurchaseDate (tests/connectors/test_amazon_mapping.py maps it with its dates moved).
HELD_AS_PUBLISHED = {("amazon", "as_sent")}
FIXTURE_BUNDLES = [pytest.param(platform, path, id=f"{platform}-{path.stem}")
                   for platform in sorted(PLATFORMS) for path in sorted((FIXTURES / platform).glob("*.json"))
                   if not path.stem.startswith("broken_") and (platform, path.stem) not in HELD_AS_PUBLISHED]


@pytest.mark.parametrize(("platform", "path"), FIXTURE_BUNDLES)
def test_stored_bytes_map_to_the_same_order_as_the_dict(platform, path):
    bundle = PLATFORMS[platform].read_payload(path.read_bytes())
    connector = PLATFORMS[platform]
    from_bytes = connector.map_raw(stored_bytes(bundle), shop(platform))
    assert from_bytes == connector.map_order(bundle, shop(platform))
    assert from_bytes.external_id and from_bytes.key.startswith(f"{platform}:")


def tiktok_bytes(**order_changes) -> bytes:
    bundle = orjson.loads((FIXTURES / "tiktok" / "unit_rows_three_of_one_sku.json").read_bytes())
    bundle["order"].update(order_changes)
    return stored_bytes(bundle)


@pytest.mark.parametrize(("change", "path"), [
    ({"create_time": "yesterday"}, "order.create_time"),
    ({"payment": {"currency": "USD"}}, "order.payment.total_amount"),
    ({"line_items": [{"id": "1"}]}, "order.line_items[0].sku_id"),
    ({"id": ""}, "order.id"),
    ({"recipient_address": {"region_code": 840}}, "order.recipient_address.region_code"),
])
def test_a_wire_type_error_names_the_bundle_path(change, path):
    with pytest.raises(MappingError) as err:
        decode_bundle(TIKTOK, tiktok_bytes(**change))
    assert err.value.path == path


def test_no_order_at_all_and_not_json_are_mapping_errors():
    with pytest.raises(MappingError) as err:
        decode_bundle(TIKTOK, b'{"orders": []}')
    assert (err.value.path, err.value.message) == ("order", "missing")
    with pytest.raises(MappingError) as err:
        decode_bundle(TIKTOK, b'{"order": ')
    assert err.value.message == "the bundle is not JSON"


def zoneinfo_readings(text: str) -> list[datetime]:
    wall = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    found = [wall.replace(tzinfo=PACIFIC, fold=fold).astimezone(UTC) for fold in (0, 1)]
    return found[:1] if found[0] == found[1] else found


@pytest.mark.parametrize("day", [datetime(2026, 3, 8), datetime(2026, 11, 1), datetime(2026, 7, 14)])
def test_memoised_pacific_offsets_read_every_minute_as_zoneinfo_does(day):
    # ~1,400 minutes per day, each read twice (the second from the memo): about 10 ms.
    for minute in range(0, 24 * 60, 1):
        text = f"{day + timedelta(minutes=minute):%Y-%m-%d %H:%M}:30"
        assert readings(text, "t") == zoneinfo_readings(text) == readings(text, "t")
    if day.month != 7:  # the change days have one hour with two readings (fall back) or none (spring gap)
        assert len(readings(f"{day:%Y-%m-%d} 01:30:00" if day.month == 11 else f"{day:%Y-%m-%d} 02:30:00", "t")) == 2


def test_an_unpadded_pacific_time_still_reads_and_a_bad_one_names_its_path():
    assert readings("2026-3-8 9:05:00", "t") == zoneinfo_readings("2026-03-08 09:05:00")
    with pytest.raises(MappingError) as err:
        readings("2026-03-08 09:05:0x", "order.gmt_create")
    assert err.value.path == "order.gmt_create"
