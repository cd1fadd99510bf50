"""Fixtures of the CLI tests: a deployed environment played by moto (the service stack's outputs and its Stripe
secret, as CDK makes them), and the webhook tests' billing tenants and fresh processor caches."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from saas_cli.deployment import Deployment, environment_config
from tests.integration.webhooks.conftest import _fresh_caches, make_tenant, tenant
from tests.support.stripe_stub import stripe_stub

__all__ = ["_fresh_caches", "make_tenant", "stripe_stub", "tenant"]

WEBHOOK_URL = "https://d111111abcdef8.cloudfront.net/webhooks/stripe"
# What the CDK secret holds after the first deploy: the placeholder key and a generated, non-Stripe value.
PLACEHOLDER = {"api_key": "sk_test_replace_me", "webhook_secret": "Q9x-generated-by-secrets-manager"}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


def deploy_service_stack(target: Deployment, outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"Marker": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    target.client("cloudformation").create_stack(
        StackName=target.service_stack, TemplateBody=json.dumps(template)
    )


@pytest.fixture
def deployed(aws: None) -> Deployment:
    target = Deployment(environment_config("dev"))
    secrets = boto3.client("secretsmanager", region_name=target.config.region)
    arn = secrets.create_secret(
        Name=f"{target.config.stack_prefix}/stripe", SecretString=json.dumps(PLACEHOLDER)
    )["ARN"]
    deploy_service_stack(target, {"StripeSecretArn": arn, "StripeWebhookEndpoint": WEBHOOK_URL})
    return target


def stored_secret(target: Deployment) -> dict[str, str]:
    value = target.client("secretsmanager").get_secret_value(SecretId=target.output("StripeSecretArn"))
    stored: dict[str, str] = json.loads(value["SecretString"])
    return stored


def secret_versions(target: Deployment) -> int:
    versions = target.client("secretsmanager").list_secret_version_ids(
        SecretId=target.output("StripeSecretArn")
    )
    return len(versions["Versions"])
