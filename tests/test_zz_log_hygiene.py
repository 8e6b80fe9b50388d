"""Runs last (file name): every log line of this test run is checked for credentials and buyer PII.

conftest.py sends all structlog and stdlib logging of the run, at DEBUG, into one buffer. The values
looked for are every secret the run resolved, the sandbox demo credentials, and the buyer names,
phones and street lines of the recorded fixtures and test factories.
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

import orjson

from orderhub import logs
from tests.conftest import LOG_CAPTURE
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


def test_redaction_masks_pii_keys_and_registered_secrets_everywhere():
    logs.register_secret("tok-ABCDEFGH12345")
    event = logs.redact({"ship_to": {"name": "Ann"}, "phone": "+1 555 0100", "detail": "token tok-ABCDEFGH12345 bad",
                         "nested": [{"AddressLine1": "9 Elm St"}]})
    assert event == {"ship_to": "***", "phone": "***", "detail": "token *** bad", "nested": [{"AddressLine1": "***"}]}
    logging.getLogger("urllib3.connectionpool").debug("GET /api?app_secret=tok-ABCDEFGH12345 HTTP/1.1")
    assert "tok-ABCDEFGH12345" not in LOG_CAPTURE.getvalue()


def test_no_credential_or_buyer_pii_in_any_log_line_of_this_run():
    text = LOG_CAPTURE.getvalue()
    assert text.count("\n") > 5, "the run should have logged something; is the capture wired up?"
    leaked = sorted(v for v in forbidden_values() if v in text)
    assert leaked == [], f"{len(leaked)} sensitive value(s) found in logs"
