"""What each receiver reads from a verified push for the guard (pipeline/push_guard.py): the signed time,
the push's identity and the platform shop it names. Pushes are signed by the emulators' own builders."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from connectors.registry import get_connector
from pipeline.push_guard import EPOCH, signed_time
from sandbox.shein.shapes import aes_encrypt, sign
from sandbox.temu import webhook as temu
from sandbox.tiktok import webhook as tiktok

TIKTOK = {"app_key": "6a0demo0app0key", "app_secret": "0123456789abcdef0123456789abcdef"}
TEMU = {"app_key": "temu-app-key", "app_secret": "temu-app-secret-0123456789"}
SHEIN = {"app_id": "SHEINAPPID0001", "app_secret": "SHEINAPPSECRET0123456789ABCDEF", "webhook_path": "/hooks/shein"}


def receiver(platform: str):
    return get_connector(platform).capabilities.webhooks


def lowered(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def test_which_receivers_name_the_platform_shop():
    assert [receiver(p).names_account for p in ("tiktok", "temu", "shein")] == [True, True, False]


def test_tiktok_reads_notification_id_timestamp_and_shop_id_from_the_signed_body():
    payload = tiktok.order_status_payload("7494049642642441621", "576486316948490001", "AWAITING_SHIPMENT",
                                          1644412000, 1644412885)
    body, headers = tiktok.build_webhook(TIKTOK["app_key"], TIKTOK["app_secret"], payload)
    push = receiver("tiktok").verify(TIKTOK, lowered(headers), body)
    assert push.order_ids == ("576486316948490001",)
    assert push.push_id == payload["tts_notification_id"]
    assert push.signed_at == datetime(2022, 2, 9, 13, 21, 25, tzinfo=UTC)  # seconds
    assert push.account == "7494049642642441621"


def test_a_tiktok_push_without_notification_id_is_known_by_its_signature():
    """TikTok's published type 3 example carries no tts_notification_id."""
    payload = tiktok.address_update_payload("7494049642642441621", "576486316948490001", 1644412885, 1644412885)
    body, headers = tiktok.build_webhook(TIKTOK["app_key"], TIKTOK["app_secret"], payload)
    push = receiver("tiktok").verify(TIKTOK, lowered(headers), body)
    assert "tts_notification_id" not in payload
    assert push.push_id == headers["Authorization"].lower() and push.order_ids == ("576486316948490001",)


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("timestamp", "not a time", EPOCH), ("timestamp", None, EPOCH), ("timestamp", 10**30, EPOCH),
    ("shop_id", 7494049642642441621, "7494049642642441621"), ("shop_id", None, None), ("shop_id", ["x"], None),
])
def test_tiktok_odd_envelope_values(field, value, expected):
    payload = tiktok.order_status_payload("7494049642642441621", "5764", "AWAITING_SHIPMENT", 1644412000, 1644412885)
    payload[field] = value
    body, headers = tiktok.build_webhook(TIKTOK["app_key"], TIKTOK["app_secret"], payload)
    push = receiver("tiktok").verify(TIKTOK, lowered(headers), body)
    assert (push.signed_at if field == "timestamp" else push.account) == expected


@pytest.mark.parametrize("event_code", [temu.ORDER_STATUS_CHANGE, temu.ADDRESS_CHANGED])
def test_temu_reads_the_signed_mall_id_and_millisecond_timestamp(event_code):
    event = (temu.order_status_event("634418210001", "PO-211-1", 2, 1_700_000_000) if event_code == temu.ORDER_STATUS_CHANGE
             else temu.address_changed_event("634418210001", "PO-211-1"))
    body, headers = temu.build_webhook(TEMU["app_key"], TEMU["app_secret"], event, timestamp_ms=1726127013525,
                                       event_code=event_code)
    push = receiver("temu").verify(TEMU, headers, body)
    assert push.order_ids == ("PO-211-1",) and push.account == "634418210001"  # mallId is a JSON number
    assert push.signed_at == datetime(2024, 9, 12, 7, 43, 33, 525000, tzinfo=UTC)
    assert push.push_id == headers["x-tm-signature"]


def test_a_temu_event_that_is_no_order_event_names_no_order_but_still_its_mall():
    body, headers = temu.build_webhook(TEMU["app_key"], TEMU["app_secret"], {"mallId": 634418210001},
                                       timestamp_ms=1726127013525, event_code="bg_open_event_test")
    push = receiver("temu").verify(TEMU, headers, body)
    assert push.order_ids == () and push.account == "634418210001"


@pytest.mark.parametrize("ext_param", [None, ""])
def test_temu_signs_without_a_blank_ext_param(ext_param):
    """TEMU's Java sample (buildSignSource) skips blank values: a push with no x-tm-ext-param verifies."""
    plain = json.dumps({"mallId": 1, "parentOrderSn": "PO-1"}, separators=(",", ":"))
    headers = {"x-tm-app-key": TEMU["app_key"], "x-tm-event-code": temu.ORDER_STATUS_CHANGE,
               "x-tm-timestamp": "1726127013525"}
    headers["x-tm-signature"] = temu.webhook_signature(TEMU["app_secret"], {"eventData": plain, **headers})
    if ext_param is not None:
        headers["x-tm-ext-param"] = ext_param
    body = json.dumps({"eventData": temu.encrypt_event(TEMU["app_secret"], plain)}).encode()
    assert receiver("temu").verify(TEMU, headers, body).order_ids == ("PO-1",)
    assert receiver("temu").verify(TEMU, headers | {"x-tm-ext-param": "{}"}, body) is None  # now signed, wrongly


def shein_push(stamp: str, numbers: object) -> tuple[dict[str, str], bytes]:
    body = urlencode({"eventData": aes_encrypt(json.dumps({"orderNoList": numbers}), SHEIN["app_secret"])}).encode()
    return {"x-lt-openkeyid": "OPENKEY1", "x-lt-eventcode": "order_push_notice", "x-lt-appid": SHEIN["app_id"],
            "x-lt-timestamp": stamp,
            "x-lt-signature": sign(SHEIN["app_id"], SHEIN["app_secret"], SHEIN["webhook_path"], stamp, "AbC12")}, body


@pytest.mark.parametrize("stamp", ["1726127013525", "1726127013"])
def test_shein_reads_the_signed_time_in_milliseconds_or_seconds_and_names_no_account(stamp):
    headers, body = shein_push(stamp, ["GSH1", 42])
    push = receiver("shein").verify(SHEIN, headers, body)
    assert push.order_ids == ("GSH1", "42") and push.account is None
    assert push.push_id == headers["x-lt-signature"]
    assert abs(push.signed_at - datetime(2024, 9, 12, 7, 43, 33, tzinfo=UTC)).total_seconds() < 1


def test_values_that_cannot_be_order_ids_are_passed_on_for_the_guard_to_refuse():
    headers, body = shein_push(str(int(time.time() * 1000)), ["GSH1", {"x": 1}, True, 1.5])
    assert receiver("shein").verify(SHEIN, headers, body).order_ids == ("GSH1", {"x": 1}, True, 1.5)
    payload = tiktok.order_status_payload("1", "5764", "AWAITING_SHIPMENT", 1, 1644412885)
    payload["data"]["order_id"] = ""
    body, headers = tiktok.build_webhook(TIKTOK["app_key"], TIKTOK["app_secret"], payload)
    assert receiver("tiktok").verify(TIKTOK, lowered(headers), body).order_ids == ("",)


@pytest.mark.parametrize(("value", "unit", "expected"), [
    (1644412885, "s", datetime(2022, 2, 9, 13, 21, 25, tzinfo=UTC)),
    ("1726127013525", "ms", datetime(2024, 9, 12, 7, 43, 33, 525000, tzinfo=UTC)),
    ("1726127013525", "auto", datetime(2024, 9, 12, 7, 43, 33, 525000, tzinfo=UTC)),
    ("1726127013", "auto", datetime(2024, 9, 12, 7, 43, 33, tzinfo=UTC)),
    ("", "s", EPOCH), ("-5", "s", EPOCH), ("١٢٣", "s", EPOCH), (True, "s", EPOCH), (1.5e9, "s", EPOCH),
    (10**400, "ms", EPOCH), ("9" * 21, "s", EPOCH),
])
def test_signed_time_reads_epoch_numbers_and_makes_anything_else_stale(value, unit, expected):
    assert signed_time(value, unit) == expected
