from __future__ import annotations

import json

import pytest

from infra.components.service_function import log_retention
from infra.config import ConfigError, EnvironmentConfig, concurrency_limits, load_config
from infra.packaging import REPO_ROOT
from tests.infra.conftest import cdk_context


def test_dev_and_prod_are_typed_and_differ() -> None:
    dev = load_config(cdk_context(env="dev"), default_account=None, default_region=None)
    prod = load_config(cdk_context(env="prod"), default_account=None, default_region=None)
    assert (dev.retain_data, prod.retain_data) == (False, True)
    assert prod.database.multi_az
    assert prod.database.deletion_protection
    assert not dev.database.multi_az
    assert len(prod.zones) == 3
    assert len(dev.zones) == 2
    assert dev.bundle is False  # "-c bundle=false" arrives as a string


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown environment"):
        load_config(cdk_context(env="staging"), default_account=None, default_region=None)


def test_account_comes_from_context_or_cli_default_never_the_repo() -> None:
    context = cdk_context()
    del context["account"]
    config = load_config(context, default_account="210987654321", default_region=None)
    assert config.account == "210987654321"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "prod", "retain_data": False}, "prod must retain data"),
        (
            {
                "name": "dev",
                "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0f3c2d1e-4b5a-4c6d-8e7f-90a1b2c3d4e5",
            },
            "no domain names use it",
        ),
        ({"name": "dev", "domain_names": ("app.example.com",)}, "certificate_arn"),
        (
            {
                "name": "dev",
                "domain_names": ("a.example.com",),
                "certificate_arn": "arn:aws:acm:eu-west-1:1:c/x",
            },
            "us-east-1",
        ),
        ({"name": "dev", "max_azs": 2, "availability_zones": ("eu-west-1a",)}, "exactly max_azs"),
        ({"name": "dev", "unknown_field": 1}, "Extra inputs"),
    ],
)
def test_inconsistent_configuration_is_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EnvironmentConfig.model_validate(fields)


def test_session_jwks_url_follows_the_public_domain() -> None:
    config = EnvironmentConfig(name="dev", public_base_url="https://app.example.com/")
    assert config.session_jwks_url == "https://app.example.com/.well-known/jwks.json"
    assert EnvironmentConfig(name="dev").session_jwks_url is None


@pytest.mark.parametrize(
    ("days", "expected"), [(1, "ONE_DAY"), (10, "TWO_WEEKS"), (365, "ONE_YEAR"), (99999, "TEN_YEARS")]
)
def test_log_retention_rounds_up_to_an_allowed_period(days: int, expected: str) -> None:
    assert log_retention(days).name == expected


def _prod_fields(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "name": "prod",
        "retain_data": True,
        "domain_names": ("app.example.com",),
        "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/0f3c2d1e-4b5a-4c6d-8e7f-90a1b2c3d4e5",
        "alarm_email": "oncall@example.com",
    }
    return {**fields, **changes}


def test_prod_as_an_operator_fills_it_in_is_accepted() -> None:
    assert EnvironmentConfig.model_validate(_prod_fields()).name == "prod"


@pytest.mark.parametrize(
    ("changes", "key", "fix"),
    [
        ({"domain_names": (), "certificate_arn": None}, "domain_names, certificate_arn", "TLS 1.2"),
        ({"certificate_arn": None}, "certificate_arn", "us-east-1"),
        ({"alarm_email": None}, "alarm_email, alarm_topic_arn", "subscriber"),
        ({"log_level": "DEBUG"}, "log_level", "use INFO"),
        (
            {"certificate_arn": "arn:aws:acm:us-east-1:1:nope"},
            "certificate_arn",
            "not an ACM certificate ARN",
        ),
        ({"domain_names": ("App.Example.com",)}, "domain_names", "lower-case host name"),
        ({"alarm_email": "oncall"}, "alarm_email", "not an e-mail address"),
        ({"public_base_url": "http://app.example.com"}, "public_base_url", "https"),
        ({"ses_identity": "not a domain"}, "ses_identity", "domain"),
        (
            {"alarm_topic_arn": "arn:aws:sns:eu-west-1:123456789012:pager"},
            "alarm_topic_arn, edge_alarm_topic_arn",
            "both or neither",
        ),
        (
            {
                "alarm_topic_arn": "arn:aws:sns:us-east-1:123456789012:pager",
                "edge_alarm_topic_arn": "arn:aws:sns:us-east-1:123456789012:pager",
            },
            "alarm_topic_arn",
            "own region (eu-west-1)",
        ),
        ({"database": {"connection_budget": 5}}, "database.connection_budget", "greater than or equal to 12"),
    ],
)
def test_a_bad_prod_value_fails_at_synth_naming_the_key_and_the_fix(
    changes: dict[str, object], key: str, fix: str
) -> None:
    context = cdk_context()
    context["environments"] = {"prod": _prod_fields(**changes)}
    with pytest.raises(ConfigError) as raised:
        load_config({**context, "env": "prod"}, default_account=None, default_region=None)
    message = str(raised.value)
    assert "environments.prod" in message
    assert f"{key}:" in message
    assert fix in message


def test_prod_from_the_repository_alone_refuses_to_synthesize_without_a_certificate() -> None:
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    with pytest.raises(ConfigError, match="certificate_arn"):
        load_config({**context, "env": "prod"}, default_account=None, default_region=None)


@pytest.mark.parametrize("budget", [12, 13, 40, 99, 400, 5000])
def test_concurrency_caps_never_exceed_the_connection_budget(budget: int) -> None:
    limits = concurrency_limits(budget)
    assert limits.total == budget  # rounding leftovers go to the API, nothing is lost or oversubscribed
    assert limits.api >= 1
    assert (
        min(limits.jobs_worker, limits.webhook_processor, limits.ses_consumer, limits.webhook_delivery) >= 2
    )


def test_the_documented_arithmetic_for_the_dev_budget() -> None:
    # docs/infrastructure.md shows this split for connection_budget = 40.
    limits = concurrency_limits(40)
    assert (limits.api, limits.jobs_worker, limits.webhook_processor, limits.ses_consumer) == (23, 7, 3, 3)
    assert limits.webhook_delivery == 2
    assert (limits.scheduler, limits.migrate) == (1, 1)
