"""`saas sso reconcile`: tenants' connections in two real cells against moto's Cognito — a `cdk deploy`'s reset
of the app client's provider list restored in one update, orphans reported and deleted only when asked,
missing providers reported, a second run with nothing to do, and the exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from api.services.federation import CognitoFederation
from saas_cli import sso as sso_cli
from saas_cli.deployment import Deployment, environment_config
from saas_cli.main import main
from tests.integration.api.harness import ApiHarness, Session, api
from tests.integration.saas_cli.conftest import deploy_service_stack
from tests.support.cells import DEDICATED_CELL
from tests.support.sso import REGION, CognitoPool, cognito_pool, saml_metadata

__all__ = ["api", "cognito_pool"]

ORPHAN = "sso-0123456789ab-ba9876543210"


def connect(api: ApiHarness, owner: Session) -> str:
    created = api.client.post(
        "/api/v1/sso/connections",
        json={"protocol": "saml", "display_name": "Entra", "metadata_xml": saml_metadata()},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    name: str = created.json()["provider_name"]
    return name


def reset_like_cdk_deploy(pool: CognitoPool) -> None:
    """What CloudFormation does to the client on an update: the template's provider list, nothing else."""
    client = pool.client()
    pool.cognito.update_user_pool_client(
        UserPoolId=pool.user_pool_id,
        ClientId=pool.client_id,
        ClientName=client["ClientName"],
        SupportedIdentityProviders=["COGNITO"],
        CallbackURLs=client["CallbackURLs"],
        AllowedOAuthFlows=client["AllowedOAuthFlows"],
        AllowedOAuthScopes=client["AllowedOAuthScopes"],
        AllowedOAuthFlowsUserPoolClient=True,
    )


@pytest.fixture
def deployed_pool(cognito_pool: CognitoPool) -> CognitoPool:
    """The service stack's outputs name the pool, as `cdk deploy` leaves them."""
    target = Deployment(environment_config("dev", region=REGION))
    deploy_service_stack(
        target, {"UserPoolId": cognito_pool.user_pool_id, "UserPoolClientId": cognito_pool.client_id}
    )
    return cognito_pool


@pytest.fixture
def reconcile(cells, pg, dedicated_pg) -> Callable[..., int]:
    """`saas sso reconcile --env dev` over both cells (the pooled one and the dedicated one)."""
    targets = ["--database-url", pg.owner_url, "--cell", f"{DEDICATED_CELL}={dedicated_pg.owner_url}"]

    def run(*args: str) -> int:
        return main(["sso", "reconcile", "--env", "dev", "--region", REGION, *targets, *args])

    return run


def test_a_reset_client_gets_every_cells_providers_back_and_a_second_run_has_nothing_to_do(
    api, cells, reconcile, deployed_pool, capsys
):
    cells.place("far")
    pooled = connect(api, api.sign_up())
    dedicated = connect(api, api.sign_up("far"))
    assert deployed_pool.client()["SupportedIdentityProviders"] == ["COGNITO", pooled, dedicated]
    reset_like_cdk_deploy(deployed_pool)
    capsys.readouterr()

    assert reconcile("--dry-run") == sso_cli.DRIFT_LEFT
    out = capsys.readouterr().out
    assert f"enable   {pooled}" in out
    assert f"enable   {dedicated}" in out
    assert "would add" in out
    assert f"({DEDICATED_CELL})" in out
    assert deployed_pool.client()["SupportedIdentityProviders"] == ["COGNITO"]

    before = deployed_pool.client()
    assert reconcile() == sso_cli.IN_SYNC
    after = deployed_pool.client()
    assert sorted(after["SupportedIdentityProviders"]) == sorted(["COGNITO", pooled, dedicated])
    # The client's other settings were sent back, not reset.
    assert {k: v for k, v in after.items() if k != "SupportedIdentityProviders"} == {
        k: v for k, v in before.items() if k != "SupportedIdentityProviders"
    }

    capsys.readouterr()
    assert reconcile("--json") == sso_cli.IN_SYNC
    report = json.loads(capsys.readouterr().out)
    assert report == {"enable": [], "missing": [], "orphans": [], "delete_orphans": False, "dry_run": False}
    assert reconcile("--dry-run") == sso_cli.IN_SYNC
    assert "nothing to do" in capsys.readouterr().out


def test_orphans_are_reported_and_deleted_only_with_the_flag(api, reconcile, deployed_pool, capsys):
    kept = connect(api, api.sign_up())
    deployed_pool.cognito.create_identity_provider(
        UserPoolId=deployed_pool.user_pool_id,
        ProviderName=ORPHAN,
        ProviderType="SAML",
        ProviderDetails={"MetadataFile": saml_metadata()},
    )
    deployed_pool.cognito.create_identity_provider(
        UserPoolId=deployed_pool.user_pool_id,
        ProviderName="Corporate",
        ProviderType="SAML",
        ProviderDetails={"MetadataFile": saml_metadata()},
    )
    CognitoFederation(
        user_pool_id=deployed_pool.user_pool_id,
        app_client_id=deployed_pool.client_id,
        secret_prefix="",
        region=REGION,
    ).enable_on_client(ORPHAN)

    assert reconcile() == sso_cli.DRIFT_LEFT
    assert "kept (pass --delete-orphans" in capsys.readouterr().out
    assert ORPHAN in deployed_pool.providers()

    assert reconcile("--delete-orphans", "--dry-run") == sso_cli.DRIFT_LEFT
    assert ORPHAN in deployed_pool.providers()
    assert reconcile("--delete-orphans") == sso_cli.IN_SYNC
    assert f"orphan   {ORPHAN}  no connection row: did delete" in capsys.readouterr().out
    # A provider not named like a connection's is not the tenants' business.
    assert deployed_pool.providers() == sorted(["Corporate", kept])
    assert deployed_pool.client()["SupportedIdentityProviders"] == ["COGNITO", kept]
    assert reconcile("--delete-orphans") == sso_cli.IN_SYNC


def test_a_connection_whose_provider_is_gone_is_reported(api, reconcile, deployed_pool, capsys):
    owner = api.sign_up()
    gone = connect(api, owner)
    deployed_pool.cognito.delete_identity_provider(UserPoolId=deployed_pool.user_pool_id, ProviderName=gone)
    capsys.readouterr()
    assert reconcile("--json") == sso_cli.DRIFT_LEFT
    report = json.loads(capsys.readouterr().out)
    assert report["missing"] == [{"provider_name": gone, "tenant_id": str(owner.tenant_id), "cell": "pooled"}]


def test_bad_targets_and_failed_calls(pg, reconcile, deployed_pool, monkeypatch, capsys):
    assert main(["sso", "reconcile", "--database-url", pg.owner_url]) == sso_cli.BAD_TARGET
    assert "--env" in capsys.readouterr().err
    assert main(
        ["sso", "reconcile", "--env", "dev", "--region", "eu-central-1", "--database-url", pg.owner_url]
    ) == (sso_cli.BAD_TARGET)
    assert "is not deployed" in capsys.readouterr().err
    monkeypatch.delenv("MIGRATE_DATABASE_URL", raising=False)
    assert main(["sso", "reconcile", "--env", "dev", "--region", REGION]) == sso_cli.BAD_TARGET
    deployed_pool.cognito.delete_user_pool_client(
        UserPoolId=deployed_pool.user_pool_id, ClientId=deployed_pool.client_id
    )
    assert reconcile() == sso_cli.CALL_FAILED
    assert "DescribeUserPoolClient failed (ResourceNotFoundException)" in capsys.readouterr().err
