"""Per-tenant SSO on the local stack, through the local CloudFront: a connection in moto's Cognito, a role
mapping, and a dev-IdP federated sign-in that lands with the mapped role."""

from __future__ import annotations

import pytest

from local.aws import client as aws_client
from tests.e2e.conftest import RunningStack
from tests.e2e.helpers import sign_in
from tests.support.sso import saml_metadata

pytestmark = pytest.mark.e2e


def test_a_federated_user_signs_in_through_the_tenants_connection_with_the_mapped_role(
    stack: RunningStack,
) -> None:
    owner = sign_in(stack, "olivia@sso-e2e.example", "sso-e2e")
    try:
        created = owner.client.post(
            "/api/v1/sso/connections",
            json={
                "protocol": "saml",
                "display_name": "Entra",
                "metadata_xml": saml_metadata(),
                "groups_attribute": "g",
            },
        )
        assert created.status_code == 201, created.text
        connection = created.json()
        name = connection["provider_name"]
        state = stack.state
        cognito = aws_client("cognito-idp", state.moto_url)
        provider = cognito.describe_identity_provider(UserPoolId=state.sso_user_pool_id, ProviderName=name)
        assert provider["IdentityProvider"]["ProviderType"] == "SAML"
        mapped = owner.client.put(
            f"/api/v1/sso/connections/{connection['id']}/role-mapping",
            json={"default_role": "viewer", "mappings": [{"group": "engineering", "role": "member"}]},
        )
        assert mapped.status_code == 200, mapped.text
    finally:
        owner.close()

    token = stack.saas(
        "token", "--email", "jane@sso-e2e.example", "--sso-provider", name, "--group", "engineering"
    ).stdout.strip()
    with stack.client() as anonymous:
        session = anonymous.post("/api/v1/sessions", json={"id_token": token})
        assert session.status_code == 201, session.text
        assert session.json()["role"] == "member"
        assert session.json()["tenant_id"] == owner.tenant_id
        discover = anonymous.post("/api/v1/sessions/discover", json={"email": "jane@sso-e2e.example"})
        assert discover.json() == {"method": "password", "authorize_url": None, "sso_required": False}
    with stack.client(session.json()["access_token"]) as jane:
        assert jane.post("/api/v1/projects", json={"name": "from sso"}).status_code == 201
        assert jane.get("/api/v1/sso/connections").status_code == 403


def test_a_domain_verifies_against_the_stacks_dns_and_reconcile_restores_the_client(
    stack: RunningStack,
) -> None:
    owner = sign_in(stack, "olivia@dns-e2e.example", "dns-e2e")
    try:
        connection = owner.client.post(
            "/api/v1/sso/connections",
            json={"protocol": "saml", "display_name": "Entra", "metadata_xml": saml_metadata()},
        ).json()
        claim = owner.client.post(
            "/api/v1/sso/domains", json={"domain": "dns-e2e.example", "connection_id": connection["id"]}
        ).json()
        verify = f"/api/v1/sso/domains/{claim['id']}/verify"
        assert owner.client.post(verify).status_code == 422  # not published yet
        challenge = claim["challenge"]
        stack.saas("dev", "txt", challenge["record_name"], challenge["record_value"])
        verified = owner.client.post(verify)
        assert verified.status_code == 200, verified.text
        assert verified.json()["verified_at"] is not None
    finally:
        owner.close()

    state = stack.state
    cognito = aws_client("cognito-idp", state.moto_url)
    client = cognito.describe_user_pool_client(
        UserPoolId=state.sso_user_pool_id, ClientId=state.sso_app_client_id
    )["UserPoolClient"]
    cognito.update_user_pool_client(
        UserPoolId=state.sso_user_pool_id,
        ClientId=state.sso_app_client_id,
        ClientName=client["ClientName"],
        SupportedIdentityProviders=["COGNITO"],
    )
    restored = stack.saas("sso", "reconcile", "--local")
    assert f"enable   {connection['provider_name']}" in restored.stdout
    assert "nothing to do" in stack.saas("sso", "reconcile", "--local").stdout
