from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from orderhub.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def normalize(platform: str, name: str, *options: str):
    return CliRunner().invoke(main, ["normalize", platform, str(FIXTURES / platform / f"{name}.json"), *options])


def test_normalize_prints_the_canonical_order_with_the_buyer_masked():
    result = normalize("tiktok", "unit_rows_three_of_one_sku")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert doc["key"] == "tiktok:shop:576461413038785001"
    assert doc["lines"][0]["quantity"] == 3 and len(doc["lines"][0]["line_ids"]) == 3
    assert doc["ship_to"]["line1"] == "***" and "Etxeberria" not in result.output
    assert len(doc["payload_hash"]) == 64


def test_normalize_masks_the_person_but_keeps_where_the_order_goes():
    masked = orjson.loads(normalize("shein", "float_amounts_exact").output)["ship_to"]
    assert {k: masked[k] for k in ("name", "phone", "email", "line1")} == dict.fromkeys(
        ("name", "phone", "email", "line1"), "***")
    assert (masked["country"], masked["region"], masked["city"], masked["postal_code"]) == ("US", "TX", "Austin", "78745")
    shown = orjson.loads(normalize("shein", "float_amounts_exact", "--pii").output)["ship_to"]
    assert (shown["name"], shown["line1"]) == ("Linda Brown", "60 Pine Road")


def test_normalize_reads_shein_floats_as_the_client_does():
    """The reported failure: `"sellerCurrencyPrice": 12.98` gave "Expected int | str, got float".
    SHEIN sends amounts as JSON numbers: public client easycb/easycb-go, shein/model_order.go
    (https://github.com/easycb/easycb-go/blob/main/shein/model_order.go, SellerCurrencyPrice float64)."""
    result = normalize("shein", "float_amounts_exact")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert doc["lines"][0]["unit_price"] == {"amount": "12.98", "currency": "USD"}
    assert doc["totals"]["total"]["amount"] == "13.68"  # exact: 13.68 + 0.2 + 0.1 - 0.3 in floats is not


def test_normalize_maps_amazon_as_sent(tmp_path):
    """Orders v0 as published in amzn/selling-partner-api-models, models/orders-api-model/ordersV0.json
    (https://github.com/amzn/selling-partner-api-models/blob/main/models/orders-api-model/ordersV0.json):
    the getOrders sandbox order 902-1845936-5435065, a getOrderItems item and a getOrderAddress payload."""
    result = normalize("amazon", "as_sent")  # its canned PurchaseDate, 1970-01-19, is outside 2000 to 2100
    assert result.exit_code == 1
    assert result.output.strip() == ("MappingError at order.PurchaseDate: "
                                     "time is not between 2000-01-01 and 2100-01-01 UTC")
    dated = orjson.loads((FIXTURES / "amazon" / "as_sent.json").read_bytes().replace(b"1970-01-19", b"2026-03-01"))
    moved = Path(tmp_path) / "as_sent_2026.json"
    moved.write_bytes(orjson.dumps(dated))
    result = CliRunner().invoke(main, ["normalize", "amazon", str(moved)])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert doc["key"] == "amazon:shop:902-1845936-5435065" and doc["fulfilled_by"] == "SELLER"
    assert doc["totals"]["total"] == {"amount": "11.01", "currency": "USD"}
    assert doc["ship_to"]["city"] == "Canton" and doc["ship_to"]["name"] == "***"


def test_normalize_maps_tiktok_as_sent():
    """TikTok Shop Partner API, "Get Order Detail" (GET /order/202309/orders): ids as strings (past 2^53),
    times as unix seconds, amounts as decimal strings, one line item per unit, buyer name and phone masked."""
    result = normalize("tiktok", "as_sent")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert doc["key"] == "tiktok:shop:576461413038785752"
    assert doc["lines"][0]["line_ids"] == ["577086512123755123", "577086512123755124"]
    assert doc["totals"]["total"] == {"amount": "46.38", "currency": "USD"}


def test_normalize_maps_temu_as_sent_while_the_amount_is_not_known_yet():
    """TEMU Partner Platform API reference (https://partner-us.temu.com/documentation), bg.order.list.v2.get
    (a pageItems entry: ids, statuses and unix-second times as JSON numbers) and bg.order.shippinginfo.v2.get;
    the amount document is null, as while TEMU is still calculating it."""
    result = normalize("temu", "as_sent")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert doc["key"] == "temu:shop:PO-211-01208475563190852" and doc["status"] == "READY"
    assert doc["lines"][0]["platform_sku"] == "17592186044416" and doc["lines"][0]["quantity"] == 2


def test_normalize_maps_aliexpress_as_sent_with_ids_past_2_53():
    """AliExpress Open Platform aliexpress.solution.order.get (order_dto, order_id/child_id as int64 JSON
    numbers: bububa/opentaobao model/aesolution/OrderDto.go, https://github.com/bububa/opentaobao) and
    aliexpress.solution.order.receiptinfo.get. The ids are past 2^53: through a double they would change."""
    result = normalize("aliexpress", "as_sent")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert doc["key"] == "aliexpress:shop:9007199254743125"
    assert [line["line_ids"] for line in doc["lines"]] == [["9007199254743127"], ["9007199254743129"]]


def test_normalize_maps_shein_as_sent():
    """SHEIN Open Platform "Customer Order API": an order-detail `info` entry (amounts as JSON floats,
    goodsId as a number; field types as in easycb/easycb-go shein/model_order.go,
    https://github.com/easycb/easycb-go/blob/main/shein/model_order.go) and an export-address entry."""
    result = normalize("shein", "as_sent")
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert doc["key"] == "shein:shop:GSH2H4Z8K00NDQ7" and doc["fulfilled_by"] == "SELLER"
    mat, bottle = doc["lines"]
    assert mat["unit_price"]["amount"] == "12.98" and bottle["quantity"] == 2
    assert doc["totals"]["total"] == {"amount": "53.24", "currency": "USD"}


def test_normalize_reports_a_shein_order_held_for_its_unverified_fulfilment_type():
    """No public source says what SHEIN's performanceType values mean (docs/platforms/shein.md)."""
    result = normalize("shein", "broken_performance_type_2_to_ship")
    assert result.exit_code == 1
    assert "MappingError at order.performanceType" in result.output and "held for review" in result.output


def test_normalize_reports_the_mapping_error_with_its_field_path():
    result = normalize("amazon", "broken_order_total_amount")
    assert result.exit_code == 1
    assert "MappingError at order.OrderTotal.Amount: not a decimal: 'abc'" in result.output


def test_normalize_refuses_a_file_that_is_not_json(tmp_path):
    file = tmp_path / "b.json"
    file.write_text("{not json")
    for platform in ("shein", "amazon"):
        result = CliRunner().invoke(main, ["normalize", platform, str(file)])
        assert result.exit_code == 1 and "not JSON" in result.output


def test_normalize_unknown_platform_lists_the_known_ones(tmp_path):
    file = tmp_path / "b.json"
    file.write_text("{}")
    result = CliRunner().invoke(main, ["normalize", "temoo", str(file)])
    assert result.exit_code == 2 and "known: aliexpress, amazon, shein, temu, tiktok" in result.output


def test_normalize_maps_a_shein_bundle_as_order_show_prints_it(tmp_path):
    """The stored bundle keeps SHEIN's floats as decimal text ("12.98"); that form maps too."""
    from connectors.shein.client import decode_exact

    stored = tmp_path / "stored.json"
    stored.write_bytes(orjson.dumps(decode_exact((FIXTURES / "shein" / "float_amounts_exact.json").read_bytes())))
    result = CliRunner().invoke(main, ["normalize", "shein", str(stored)])
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.output)["totals"]["total"]["amount"] == "13.68"
