"""Which values must never reach a log line: every secret the run resolved, the sandbox demo
credentials, and the buyer names, phones and street lines of the recorded fixtures and test factories.
Shared by the end-of-session check in conftest.py and the hygiene test that runs last."""

from __future__ import annotations

import tomllib
from pathlib import Path

import orjson

from orderhub.runtime import logs
from tests.test_cli import BUYER

REPO = Path(__file__).resolve().parents[1]
PII_KEYS = {"name", "buyername", "receiptname", "contact_person", "phone", "phone_number", "mobile",
            "mobile_no", "addressline1", "addressline2", "address_line1", "address_line2", "line1", "line2",
            "street", "address", "detail_address", "firstname", "lastname", "first_name", "last_name"}


def _pii_in(node, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key.lower() in PII_KEYS and isinstance(value, str) and len(value) >= 6 and "*" not in value:
                found.add(value)
            _pii_in(value, found)
    elif isinstance(node, list):
        for item in node:
            _pii_in(item, found)


def forbidden_values() -> set[str]:
    values = {BUYER, "Jane Placeholder", "1 Test Street"}
    values |= {s for s in logs._secrets if len(s) >= 6}
    demo = REPO / "sandbox" / "demo-secrets.toml"
    if demo.exists():
        for table in tomllib.loads(demo.read_text()).values():
            values |= {str(v) for k, v in table.items() if isinstance(v, str) and len(v) >= 8 and "id" not in k}
    for path in (REPO / "tests" / "fixtures").rglob("*.json"):
        _pii_in(orjson.loads(path.read_bytes()), values)
    return values


def leaked_values(text: str) -> list[str]:
    """The forbidden values present in ``text`` (callers print only how many: the values are secrets)."""
    return sorted(v for v in forbidden_values() if v in text)
