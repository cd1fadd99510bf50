"""Typed settings: the database settings from the environment, refused nonsense, secrets never printed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from saascore.exceptions import ConfigurationError
from saascore.settings import BaseServiceSettings, DatabaseSettings


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
