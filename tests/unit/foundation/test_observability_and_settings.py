from __future__ import annotations

import json
import logging

import pytest
from pydantic import ValidationError

from saascore.exceptions import ConfigurationError
from saascore.observability import REDACTED, RedactingFormatter, redact
from saascore.problems import Problem
from saascore.settings import BaseServiceSettings, DatabaseSettings


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


def test_database_settings_from_environment(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DB_HOST", "proxy.example.internal")
    monkeypatch.setenv("DB_AUTH", "iam")
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "2500")
    settings = DatabaseSettings()
    assert (settings.host, settings.auth, settings.statement_timeout_ms, settings.sslmode) == (
        "proxy.example.internal",
        "iam",
        2500,
        "require",
    )
    assert settings.url is None


def test_database_settings_refuse_nonsense(monkeypatch):
    monkeypatch.setenv("DB_AUTH", "kerberos")
    with pytest.raises(ValidationError):
        DatabaseSettings()


def test_database_url_is_never_printed(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://saas_app:hunter2@127.0.0.1/saas")
    settings = DatabaseSettings()
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())


def test_debug_logging_is_refused_in_prod(monkeypatch):
    monkeypatch.setenv("APP_ENV", "prod")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    with pytest.raises((ConfigurationError, ValidationError)):
        BaseServiceSettings()


def test_problem_serialises_as_rfc9457():
    problem = Problem(
        status=404, title="Not found", slug="not-found", detail="No such project", extensions={"id": "x"}
    )
    assert problem.to_dict() == {
        "type": "https://errors.saas.example/not-found",
        "title": "Not found",
        "status": 404,
        "detail": "No such project",
        "id": "x",
    }
    assert Problem(status=500, title="Internal error").to_dict()["type"] == "about:blank"
