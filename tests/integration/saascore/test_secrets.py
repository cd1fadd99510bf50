"""Secret references resolve from Secrets Manager and SSM (moto)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from saascore.secrets import resolve_secret
from saascore.settings import DatabaseSettings


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def test_password_secret_is_resolved_from_secrets_manager(aws, monkeypatch):
    boto3.client("secretsmanager").create_secret(
        Name="saas/app-db", SecretString=json.dumps({"password": "s3cret"})
    )
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DB_PASSWORD_SECRET", "secretsmanager:saas/app-db#password")
    assert DatabaseSettings().resolved_password() == "s3cret"


def test_ssm_parameter_reference(aws):
    boto3.client("ssm").put_parameter(Name="/saas/flag", Value="on", Type="SecureString")
    assert resolve_secret("ssm:/saas/flag") == "on"
