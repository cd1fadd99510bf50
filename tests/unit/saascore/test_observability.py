"""Logging: credentials are redacted at any depth; log lines are JSON."""

from __future__ import annotations

import json
import logging

from saascore.observability import REDACTED, RedactingFormatter, redact


def test_redact_masks_credential_like_keys_at_any_depth():
    record = {
        "message": "hello",
        "headers": {"Authorization": "Bearer abc", "x-auth-token": "jwt", "accept": "json"},
        "items": [{"password": "p"}, {"client_secret": "s", "name": "n"}],
        "database_url": "postgresql://u:p@h/d",
    }
    assert redact(record) == {
        "message": "hello",
        "headers": {"Authorization": REDACTED, "x-auth-token": REDACTED, "accept": "json"},
        "items": [{"password": REDACTED}, {"client_secret": REDACTED, "name": "n"}],
        "database_url": REDACTED,
    }


def test_log_lines_are_json_without_secrets():
    formatter = RedactingFormatter()
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "signed in", None, None)
    record.refresh_token = "rt-123"
    record.tenant_id = "t-1"
    line = json.loads(formatter.format(record))
    assert line["message"] == "signed in"
    assert line["refresh_token"] == REDACTED
    assert line["tenant_id"] == "t-1"
