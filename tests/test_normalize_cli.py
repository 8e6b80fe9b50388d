from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from orderhub.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def test_normalize_prints_the_canonical_order_with_pii_masked():
    result = CliRunner().invoke(main, ["normalize", "tiktok", str(FIXTURES / "tiktok" / "unit_rows_three_of_one_sku.json")])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert doc["key"] == "tiktok:shop:576461413038785001"
    assert doc["lines"][0]["quantity"] == 3 and len(doc["lines"][0]["line_ids"]) == 3
    assert doc["ship_to"] == "***" and "Etxeberria" not in result.output
    assert len(doc["payload_hash"]) == 64


def test_normalize_reports_the_mapping_error_with_its_field_path():
    result = CliRunner().invoke(main, ["normalize", "amazon", str(FIXTURES / "amazon" / "broken_order_total_amount.json")])
    assert result.exit_code == 1
    assert "MappingError at order.OrderTotal.Amount: not a decimal: 'abc'" in result.output


def test_normalize_unknown_platform_lists_the_known_ones(tmp_path):
    file = tmp_path / "b.json"
    file.write_text("{}")
    result = CliRunner().invoke(main, ["normalize", "temoo", str(file)])
    assert result.exit_code == 2 and "known: aliexpress, amazon, shein, temu, tiktok" in result.output
