"""`saas doctor`: a fresh account lacks everything; a connected one lacks nothing (moto + the Stripe stub)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto.ses.models import SESBackend, SESQuota

from saas_cli import main as saas
from saas_cli.deployment import Deployment, environment_config
from saas_cli.doctor import BOOTSTRAP_STACK, BOOTSTRAP_VERSION_PARAMETER, Check, Doctor
from saas_cli.stripe_connect import connect
from tests.integration.saas_cli.conftest import deploy_service_stack
from tests.integration.saas_cli.test_stripe_connect import GOOD_KEY, stripe_account
from tests.support.stripe_stub import StripeStub

__all__ = ["stripe_account"]

MARKER = json.dumps({"Resources": {"Marker": {"Type": "AWS::SNS::Topic"}}})


def bootstrap(region: str, version: str = "28") -> None:
    boto3.client("cloudformation", region_name=region).create_stack(
        StackName=BOOTSTRAP_STACK, TemplateBody=MARKER
    )
    boto3.client("ssm", region_name=region).put_parameter(
        Name=BOOTSTRAP_VERSION_PARAMETER, Value=version, Type="String"
    )


def deploy_edge_and_data(target: Deployment) -> None:
    prefix = target.config.stack_prefix
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName=f"{prefix}-edge", TemplateBody=MARKER
    )
    target.client("cloudformation").create_stack(StackName=f"{prefix}-data", TemplateBody=MARKER)


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def test_fresh_account_lacks_everything_and_each_line_says_what_to_run(aws, capsys):
    assert saas.main(["doctor", "--env", "dev"]) == 1
    out = capsys.readouterr().out
    assert "ok      AWS credentials: account 123456789012" in out
    assert "fix: npx cdk bootstrap aws://123456789012/eu-west-1" in out
    assert "fix: npx cdk bootstrap aws://123456789012/us-east-1" in out
    assert "MISSING stack saas-dev-service (eu-west-1)" in out
    assert "fix: npx cdk deploy --all -c env=dev" in out
    assert "MISSING Stripe secret filled" in out
    assert "ok      SES production access: sandbox (verified recipients only, 200 a day)" in out
    assert "2/10 in place; 8 missing" in out


def test_connected_environment_lacks_nothing(deployed, stripe_account, capsys):
    for region in ("eu-west-1", "us-east-1"):
        bootstrap(region)
    deploy_edge_and_data(deployed)
    boto3.client("sesv2", region_name="eu-west-1").create_email_identity(
        EmailIdentity=deployed.config.ses_identity
    )
    connect(deployed, api_key=GOOD_KEY)
    assert saas.main(["doctor", "--env", "dev"]) == 0, capsys.readouterr().out
    assert "10/10 in place" in capsys.readouterr().out


def test_placeholder_secret_and_missing_identity_are_named(deployed, stripe_account):
    checks = by_name(Doctor(deployed).run())
    secret = checks["Stripe secret filled"]
    assert not secret.ok
    assert "lacks a Stripe API key and a whsec_ webhook signing secret" in secret.detail
    assert "saas stripe connect --env dev" in secret.fix
    assert not checks["Stripe webhook endpoint"].ok
    ses = checks[f"SES identity {deployed.config.ses_identity}"]
    assert not ses.ok
    assert "deploy the stacks first" in ses.detail


def test_endpoint_deleted_in_stripe_or_with_other_events_is_missing(deployed, stripe_account: StripeStub):
    connect(deployed, api_key=GOOD_KEY)
    (endpoint,) = stripe_account.webhook_endpoints.values()
    endpoint["enabled_events"] = ["invoice.paid"]
    check = Doctor(deployed).webhook_endpoint(json.loads(_secret(deployed)))
    assert not check.ok
    assert "exactly the handled events" in check.detail
    stripe_account.webhook_endpoints.clear()
    check = Doctor(deployed).webhook_endpoint(json.loads(_secret(deployed)))
    assert not check.ok
    assert "no endpoint for https://" in check.detail


@pytest.mark.parametrize(
    ("env", "daily_quota", "ok"), [("prod", 200, False), ("prod", 50_000, True), ("dev", 200, True)]
)
def test_prod_in_the_ses_sandbox_is_missing(aws, monkeypatch, env, daily_quota, ok):
    # A copy of dev named prod: the check reads only the name and the region.
    target = Deployment(environment_config("dev").model_copy(update={"name": env}))
    quota = SESQuota(sent=0)
    quota.max24_hour_send = daily_quota
    monkeypatch.setattr(SESBackend, "get_send_quota", lambda self: quota)
    check = Doctor(target).ses_production_access()
    assert check.ok is ok
    if not ok:
        assert "sandbox" in check.detail
        assert "aws sesv2 put-account-details --production-access-enabled" in check.fix


@pytest.mark.parametrize(("version", "ok"), [("5", False), ("6", True)])
def test_old_bootstrap_is_missing(aws, version, ok):
    target = Deployment(environment_config("dev"))
    bootstrap("eu-west-1", version)
    assert Doctor(target).bootstrap("eu-west-1").ok is ok


def test_service_stack_without_outputs_is_reported_not_crashed(aws):
    target = Deployment(environment_config("dev"))
    deploy_service_stack(target, {"Unrelated": "x"})
    checks = by_name(Doctor(target).run())
    assert "has no StripeSecretArn output" in checks["Stripe secret filled"].detail


def _secret(target: Deployment) -> str:
    arn = target.output("StripeSecretArn")
    value: str = target.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    return value
