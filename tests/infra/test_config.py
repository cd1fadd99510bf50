from __future__ import annotations

import pytest

from infra.components.service_function import log_retention
from infra.config import ConfigError, EnvironmentConfig, load_config
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
