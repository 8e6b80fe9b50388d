"""Runs last in a serial run (file name): every log line so far is checked for credentials and buyer PII.

conftest.py sends all structlog and stdlib logging of the run, at DEBUG, into one buffer, and checks
it again when the session (or, under xdist, each worker's share of it) ends, so nothing logged after
this test or in another worker process escapes. The values are listed in tests/log_hygiene.py.
"""

from __future__ import annotations

import logging

import pytest

from orderhub.runtime import logs
from tests.conftest import LOG_CAPTURE
from tests.log_hygiene import leaked_values


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
    leaked = leaked_values(text)
    if leaked:  # pytest.fail, not assert: an assertion's rewrite would print the secrets themselves
        pytest.fail(f"{len(leaked)} sensitive value(s) found in logs")
