"""/api/v1/sso/connections through the real app: Cognito (moto) providers, Secrets Manager, compensation."""

from __future__ import annotations

import socket
import uuid

import pytest

from api.services import audit
from api.services import sso as sso_service
from api.services.federation import CognitoFederation
from tests.support.sso import CognitoPool, FakeIdpServer, cognito_pool, idp_server, saml_metadata

__all__ = ["cognito_pool", "idp_server"]

SECRET = "oidc-client-secret-value-1234"


def _oidc(issuer: str, **overrides: object) -> dict[str, object]:
    return {
        "protocol": "oidc",
        "display_name": "Okta",
        "issuer": issuer,
        "client_id": "okta-client",
        "client_secret": SECRET,
        "groups_attribute": "groups",
        **overrides,
    }


def _rows(api, tenant_id: uuid.UUID) -> list[str]:
    return [
        str(row)
        for row in api.owner_sql(
            tenant_id, "SELECT t.*::text FROM sso_connections t WHERE tenant_id = %s", (tenant_id,)
        )
    ]


def test_an_oidc_connection_becomes_a_cognito_provider_enabled_on_the_app_client(
    api, cognito_pool: CognitoPool, idp_server: FakeIdpServer
):
    owner = api.sign_up()
    issuer = idp_server.serve_discovery()
    created = api.client.post("/api/v1/sso/connections", json=_oidc(issuer), headers=owner.headers)
    assert created.status_code == 201, created.text
    connection = created.json()
    name = connection["provider_name"]
    assert name == sso_service.provider_name(owner.tenant_id, uuid.UUID(connection["id"]))
    assert SECRET not in created.text

    provider = cognito_pool.provider(name)
    assert provider["ProviderType"] == "OIDC"
    assert provider["ProviderDetails"]["oidc_issuer"] == issuer
    assert provider["ProviderDetails"]["client_id"] == "okta-client"
    assert provider["ProviderDetails"]["client_secret"] == SECRET
    assert provider["AttributeMapping"] == {
        "email": "email",
        "email_verified": "email_verified",
        "username": "sub",
        "custom:groups": "groups",
    }
    client = cognito_pool.client()
    assert client["SupportedIdentityProviders"] == ["COGNITO", name]
    # UpdateUserPoolClient was given the client's other settings back, not reset to defaults.
    assert client["CallbackURLs"] == ["https://app.test.example/auth/callback"]
    assert client["AllowedOAuthFlows"] == ["code"]

    secret = cognito_pool.secrets.get_secret_value(SecretId=f"saas/sso/{name}")
    assert secret["SecretString"] == SECRET
    stored = _rows(api, owner.tenant_id)
    assert len(stored) == 1
    assert SECRET not in stored[0]
    assert secret["ARN"] in stored[0]
    audit = api.client.get("/api/v1/audit-logs", headers=owner.headers).text
    assert "sso_connection.created" in audit
    assert SECRET not in audit

    listed = api.client.get("/api/v1/sso/connections", headers=owner.headers).json()
    assert [entry["id"] for entry in listed] == [connection["id"]]
    fetched = api.client.get(f"/api/v1/sso/connections/{connection['id']}", headers=owner.headers)
    assert fetched.json() == connection


def test_saml_connections_from_xml_and_from_a_metadata_url(api, cognito_pool, idp_server):
    owner = api.sign_up()
    xml = saml_metadata()
    inline = api.client.post(
        "/api/v1/sso/connections",
        json={"protocol": "saml", "display_name": "Entra", "metadata_xml": xml, "groups_attribute": "groups"},
        headers=owner.headers,
    )
    assert inline.status_code == 201, inline.text
    assert inline.json()["saml_entity_id"] == "https://idp.test.example/saml"
    provider = cognito_pool.provider(inline.json()["provider_name"])
    assert provider["ProviderType"] == "SAML"
    assert provider["ProviderDetails"]["MetadataFile"] == xml
    assert provider["AttributeMapping"]["email"].endswith("/claims/emailaddress")

    url = idp_server.serve(
        "/metadata.xml", "application/samlmetadata+xml", saml_metadata(entity_id="urn:x").encode()
    )
    by_url = api.client.post(
        "/api/v1/sso/connections",
        json={"protocol": "saml", "display_name": "ADFS", "metadata_url": url},
        headers=owner.headers,
    )
    assert by_url.status_code == 201, by_url.text
    assert cognito_pool.provider(by_url.json()["provider_name"])["ProviderDetails"]["MetadataURL"] == url
    assert by_url.json()["saml_entity_id"] == "urn:x"
    assert cognito_pool.client()["SupportedIdentityProviders"] == [
        "COGNITO",
        inline.json()["provider_name"],
        by_url.json()["provider_name"],
    ]


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&lol2;"/>'
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="&xxe;"/>'
)


@pytest.mark.parametrize(
    ("xml", "detail"),
    [
        ("<not xml", "not well-formed"),
        (BILLION_LAUGHS, "DTD or entities"),
        (EXTERNAL_ENTITY, "DTD or entities"),
        (saml_metadata(sso_location=None), "no SingleSignOnService"),
        (saml_metadata(sso_location="http://idp.test.example/sso"), "https Location"),
        (saml_metadata(certificate=""), "no signing certificate"),
        (saml_metadata(key_use="encryption"), "no signing certificate"),
        (saml_metadata(certificate="bm90IGEgY2VydA=="), "not a base64 DER certificate"),
        ('<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>', "root must be"),
    ],
)
def test_malformed_saml_metadata_is_a_422_and_nothing_is_written(api, cognito_pool, xml, detail):
    owner = api.sign_up()
    response = api.client.post(
        "/api/v1/sso/connections",
        json={"protocol": "saml", "display_name": "Bad", "metadata_xml": xml},
        headers=owner.headers,
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    (error,) = response.json()["errors"]
    assert error["pointer"] == "#/metadata_xml"
    assert detail in error["detail"]
    assert _rows(api, owner.tenant_id) == []
    assert cognito_pool.providers() == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_or_wrong_oidc_issuer_is_a_422(api, cognito_pool, idp_server):
    owner = api.sign_up()
    cases = {
        f"http://127.0.0.1:{_closed_port()}/oidc": "could not be reached",
        f"{idp_server.base_url}/missing": "HTTP 404",
        idp_server.serve_discovery("/other", issuer="https://someone-else.example"): "different issuer",
        "http://10.0.0.7/oidc": "https on port 443",
        "https://169.254.169.254/latest": "not public",
    }
    for issuer, detail in cases.items():
        response = api.client.post("/api/v1/sso/connections", json=_oidc(issuer), headers=owner.headers)
        assert response.status_code == 422, (issuer, response.text)
        (error,) = response.json()["errors"]
        assert error["pointer"] == "#/issuer", issuer
        assert detail in error["detail"], (issuer, error)
    assert _rows(api, owner.tenant_id) == []
    assert cognito_pool.providers() == []
    assert cognito_pool.secrets.list_secrets()["SecretList"] == []


def test_a_failed_cognito_step_undoes_the_earlier_ones(api, cognito_pool, idp_server, monkeypatch):
    owner = api.sign_up()
    issuer = idp_server.serve_discovery()
    # The app client update is the last Cognito step: the provider and the secret exist by then.
    monkeypatch.setenv("SSO_APP_CLIENT_ID", "no-such-client")
    from tests.support.sso import clear_sso_caches

    clear_sso_caches()
    response = api.client.post("/api/v1/sso/connections", json=_oidc(issuer), headers=owner.headers)
    assert response.status_code == 502, response.text
    assert response.json()["code"] == "ResourceNotFoundException"
    assert _rows(api, owner.tenant_id) == []
    assert cognito_pool.providers() == []
    secrets = cognito_pool.secrets.list_secrets(IncludePlannedDeletion=True)["SecretList"]
    assert all("DeletedDate" in secret for secret in secrets)
    assert len(secrets) == 1


def test_a_failed_database_write_after_cognito_removes_the_provider(
    api, cognito_pool, idp_server, monkeypatch
):
    owner = api.sign_up()
    issuer = idp_server.serve_discovery()

    def broken_audit(*args: object, **kwargs: object) -> None:
        raise RuntimeError("audit insert failed")

    monkeypatch.setattr(audit, "record", broken_audit)
    with pytest.raises(
        RuntimeError, match="audit insert failed"
    ):  # the test client re-raises the 500's cause
        api.client.post("/api/v1/sso/connections", json=_oidc(issuer), headers=owner.headers)
    assert cognito_pool.providers() == []
    assert cognito_pool.client()["SupportedIdentityProviders"] == ["COGNITO"]
    assert _rows(api, owner.tenant_id) == []


def test_update_rotates_the_secret_and_changes_the_provider(api, cognito_pool, idp_server):
    owner = api.sign_up()
    issuer = idp_server.serve_discovery()
    connection = api.client.post("/api/v1/sso/connections", json=_oidc(issuer), headers=owner.headers).json()
    url = f"/api/v1/sso/connections/{connection['id']}"
    updated = api.client.patch(
        url,
        json={"client_secret": "rotated-secret", "display_name": "Okta (prod)", "groups_attribute": None},
        headers=owner.headers,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["display_name"] == "Okta (prod)"
    assert updated.json()["groups_attribute"] is None
    name = connection["provider_name"]
    provider = cognito_pool.provider(name)
    assert provider["ProviderDetails"]["client_secret"] == "rotated-secret"
    assert "custom:groups" not in provider["AttributeMapping"]
    secret = cognito_pool.secrets.get_secret_value(SecretId=f"saas/sso/{name}")["SecretString"]
    assert secret == "rotated-secret"

    wrong = api.client.patch(url, json={"metadata_xml": saml_metadata()}, headers=owner.headers)
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["pointer"] == "#/metadata_xml"
    empty = api.client.patch(url, json={}, headers=owner.headers)
    assert empty.status_code == 422


def test_updating_saml_metadata_is_checked_too(api, cognito_pool):
    owner = api.sign_up()
    connection = api.client.post(
        "/api/v1/sso/connections",
        json={"protocol": "saml", "display_name": "Entra", "metadata_xml": saml_metadata()},
        headers=owner.headers,
    ).json()
    url = f"/api/v1/sso/connections/{connection['id']}"
    bad = api.client.patch(url, json={"metadata_xml": saml_metadata(certificate="")}, headers=owner.headers)
    assert bad.status_code == 422
    new_xml = saml_metadata(entity_id="https://idp.test.example/v2")
    good = api.client.patch(url, json={"metadata_xml": new_xml}, headers=owner.headers)
    assert good.status_code == 200
    assert good.json()["saml_entity_id"] == "https://idp.test.example/v2"
    assert cognito_pool.provider(connection["provider_name"])["ProviderDetails"]["MetadataFile"] == new_xml


def test_delete_removes_provider_client_entry_and_secret(api, cognito_pool, idp_server):
    owner = api.sign_up()
    issuer = idp_server.serve_discovery()
    connection = api.client.post("/api/v1/sso/connections", json=_oidc(issuer), headers=owner.headers).json()
    url = f"/api/v1/sso/connections/{connection['id']}"
    assert api.client.delete(url, headers=owner.headers).status_code == 204
    assert api.client.get(url, headers=owner.headers).status_code == 404
    assert cognito_pool.providers() == []
    assert cognito_pool.client()["SupportedIdentityProviders"] == ["COGNITO"]
    (secret,) = cognito_pool.secrets.list_secrets(IncludePlannedDeletion=True)["SecretList"]
    assert "DeletedDate" in secret
    assert api.client.delete(url, headers=owner.headers).status_code == 404


def test_a_failed_delete_restores_what_it_removed(api, cognito_pool, idp_server, monkeypatch):
    owner = api.sign_up()
    issuer = idp_server.serve_discovery()
    connection = api.client.post("/api/v1/sso/connections", json=_oidc(issuer), headers=owner.headers).json()
    name = connection["provider_name"]
    before = cognito_pool.provider(name)

    def broken_delete_secret(self: object, arn: str) -> None:
        from api.exceptions import IdentityProviderError

        raise IdentityProviderError("DeleteSecret failed (InternalServiceError)")

    monkeypatch.setattr(CognitoFederation, "delete_secret", broken_delete_secret)
    response = api.client.delete(f"/api/v1/sso/connections/{connection['id']}", headers=owner.headers)
    assert response.status_code == 502
    assert (
        api.client.get(f"/api/v1/sso/connections/{connection['id']}", headers=owner.headers).status_code
        == 200
    )
    assert cognito_pool.providers() == [name]
    assert cognito_pool.provider(name)["ProviderDetails"] == before["ProviderDetails"]
    assert cognito_pool.client()["SupportedIdentityProviders"] == ["COGNITO", name]


def test_limit_idempotency_and_permissions(api, cognito_pool):
    owner = api.sign_up()
    body = {"protocol": "saml", "display_name": "Entra", "metadata_xml": saml_metadata()}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = api.client.post("/api/v1/sso/connections", json=body, headers={**owner.headers, **key})
    again = api.client.post("/api/v1/sso/connections", json=body, headers={**owner.headers, **key})
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert len(cognito_pool.providers()) == 1
    for _ in range(sso_service.MAX_CONNECTIONS_PER_TENANT - 1):
        assert api.client.post("/api/v1/sso/connections", json=body, headers=owner.headers).status_code == 201
    over = api.client.post("/api/v1/sso/connections", json=body, headers=owner.headers)
    assert over.status_code == 409
    assert "at most" in over.json()["detail"]
    assert len(cognito_pool.providers()) == sso_service.MAX_CONNECTIONS_PER_TENANT

    member = api.join(owner, "member")
    assert api.client.get("/api/v1/sso/connections", headers=member.headers).status_code == 403
    assert api.client.post("/api/v1/sso/connections", json=body, headers=member.headers).status_code == 403
    admin = api.join(owner, "admin")
    assert api.client.get("/api/v1/sso/connections", headers=admin.headers).status_code == 200


def test_both_metadata_sources_or_neither_is_a_422(api, cognito_pool):
    owner = api.sign_up()
    for extra in ({}, {"metadata_xml": saml_metadata(), "metadata_url": "https://idp.test.example/m"}):
        body = {"protocol": "saml", "display_name": "x", **extra}
        assert api.client.post("/api/v1/sso/connections", json=body, headers=owner.headers).status_code == 422
    no_openid = _oidc("https://idp.test.example", scopes="email profile")
    assert (
        api.client.post("/api/v1/sso/connections", json=no_openid, headers=owner.headers).status_code == 422
    )


def test_a_commit_that_fails_after_cognito_undoes_the_cognito_changes(api, cognito_pool, idp_server, pg):
    import psycopg

    owner = api.sign_up()
    issuer = idp_server.serve_discovery()
    # A deferred constraint trigger refuses the transaction at COMMIT, after every Cognito call succeeded.
    with psycopg.connect(pg.owner_url, autocommit=True) as admin:
        admin.execute(
            "CREATE FUNCTION app.refuse_commit() RETURNS trigger LANGUAGE plpgsql "
            "AS $$ BEGIN RAISE EXCEPTION 'commit refused'; END $$"
        )
        admin.execute(
            "CREATE CONSTRAINT TRIGGER refuse_commit AFTER INSERT ON sso_connections "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION app.refuse_commit()"
        )
    with pytest.raises(psycopg.Error, match="commit refused"):
        api.client.post("/api/v1/sso/connections", json=_oidc(issuer), headers=owner.headers)
    assert cognito_pool.providers() == []
    assert cognito_pool.client()["SupportedIdentityProviders"] == ["COGNITO"]
    (secret,) = cognito_pool.secrets.list_secrets(IncludePlannedDeletion=True)["SecretList"]
    assert "DeletedDate" in secret
    assert _rows(api, owner.tenant_id) == []
