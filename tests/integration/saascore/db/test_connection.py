"""The RDS IAM auth token is generated once and reused while valid (moto)."""

from __future__ import annotations

import pytest
from moto import mock_aws

from saascore.db.connection import IamAuthToken
from saascore.settings import DatabaseSettings


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def test_iam_auth_token_is_generated_once_and_reused(aws, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = DatabaseSettings(host="proxy.example.internal", auth="iam", region="eu-west-1")
    token = IamAuthToken(settings)
    first = token()
    assert "proxy.example.internal:5432/?Action=connect" in first
    assert "DBUser=saas_app" in first
    assert token() is first
