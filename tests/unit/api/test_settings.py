"""Where the API's session key may come from, per environment."""

from __future__ import annotations

import pytest

from api.settings import ApiSettings
from saascore.exceptions import ConfigurationError


def test_settings_key_source_rules(monkeypatch):
    monkeypatch.setenv("SESSION_KEY_SOURCE", "kms")
    monkeypatch.delenv("SESSION_KMS_KEY_ID", raising=False)
    with pytest.raises(ConfigurationError, match="SESSION_KMS_KEY_ID"):
        ApiSettings()
    monkeypatch.setenv("SESSION_KEY_SOURCE", "pem")
    monkeypatch.setenv("APP_ENV", "prod")
    with pytest.raises(ConfigurationError, match="PEM"):
        ApiSettings()
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("IDP_AUDIENCES", "a, b,")
    assert ApiSettings().idp_audiences == ("a", "b")
    monkeypatch.setenv("IDP_JWKS", "not json")
    with pytest.raises(ConfigurationError):
        ApiSettings().pinned_idp_keys()
