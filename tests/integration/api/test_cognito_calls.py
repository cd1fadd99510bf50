"""The AWS calls (cognito-idp, secretsmanager) each step of the SSO flow makes, recorded with a botocore
``before-call`` hook against moto, compared with the table in docs/identity.md so it cannot drift."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest

from api.services.identity import get_idp_verifier
from api.settings import get_settings
from local.idp import DevIdp
from tests.conftest import REPO_ROOT
from tests.support.sso import cognito_pool, dns_zone, idp_server, saml_metadata

__all__ = ["cognito_pool", "dns_zone", "idp_server"]

TABLE = re.compile(r"<!-- cognito-calls:start -->\n(?P<table>.*?)<!-- cognito-calls:end -->", re.S)
SERVICES = frozenset({"cognito-idp", "secretsmanager"})
SCIM = "application/scim+json"


def documented() -> dict[str, list[str]]:
    match = TABLE.search((REPO_ROOT / "docs" / "identity.md").read_text())
    assert match is not None, "docs/identity.md has no cognito-calls table"
    steps: dict[str, list[str]] = {}
    for line in match["table"].splitlines()[2:]:
        step, calls = (cell.strip() for cell in line.strip().strip("|").split("|"))
        steps[step] = [] if calls == "none" else [call.strip(" `") for call in calls.split(",")]
    return steps


class Recorder:
    """Every cognito-idp and secretsmanager call made by clients created after it was installed."""

    def __init__(self) -> None:
        self.calls: list[str] | None = None
        self.steps: dict[str, list[str]] = {}

    def __call__(self, model: Any, **_: Any) -> None:
        service = model.service_model.endpoint_prefix
        if self.calls is not None and service in SERVICES:
            self.calls.append(f"{service}:{model.name}")

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self.calls = []
        try:
            yield
        finally:
            self.steps[name], self.calls = self.calls, None


@pytest.fixture
def recorder(cognito_pool: Any) -> Iterator[Recorder]:
    from api.services.federation import get_federation

    recorder = Recorder()
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-call", recorder)
    get_federation.cache_clear()  # the API's clients are created again, with the hook
    yield recorder
    get_federation.cache_clear()
    boto3.DEFAULT_SESSION = None


@pytest.fixture
def trust_dev_idp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], DevIdp]:
    """Makes the API trust the local dev IdP (Cognito's federated token shapes) from then on."""

    def trust() -> DevIdp:
        idp = DevIdp("http://127.0.0.1:8000/_local/idp", tmp_path / "idp.pem")
        monkeypatch.setenv("IDP_ISSUER", idp.issuer)
        monkeypatch.setenv("IDP_AUDIENCES", idp.client_id)
        monkeypatch.setenv("IDP_JWKS", json.dumps(idp.jwks()))
        get_idp_verifier.cache_clear()
        get_settings.cache_clear()
        return idp

    return trust


def test_the_calls_of_each_step_are_the_documented_ones(api, recorder, idp_server, dns_zone, trust_dev_idp):
    owner = api.sign_up()
    api.set_plan(owner.tenant_id, "pro")
    issuer = idp_server.serve_discovery()
    oidc = {
        "protocol": "oidc",
        "display_name": "Okta",
        "issuer": issuer,
        "client_id": "okta-client",
        "client_secret": "first-secret-value-1234",
        "groups_attribute": "groups",
    }
    with recorder.step("register an OIDC connection"):
        created = api.client.post("/api/v1/sso/connections", json=oidc, headers=owner.headers)
    assert created.status_code == 201, created.text
    connection = created.json()
    with recorder.step("register a SAML connection"):
        saml = api.client.post(
            "/api/v1/sso/connections",
            json={"protocol": "saml", "display_name": "Entra", "metadata_xml": saml_metadata()},
            headers=owner.headers,
        )
    assert saml.status_code == 201, saml.text
    with recorder.step("update an OIDC connection (new secret and scopes)"):
        updated = api.client.patch(
            f"/api/v1/sso/connections/{connection['id']}",
            json={"client_secret": "second-secret-value-1234", "scopes": "openid email"},
            headers=owner.headers,
        )
    assert updated.status_code == 200, updated.text

    claim = api.client.post(
        "/api/v1/sso/domains",
        json={"domain": "acme.example", "connection_id": connection["id"]},
        headers=owner.headers,
    ).json()
    challenge = claim["challenge"]
    dns_zone.publish(challenge["record_name"], f'"{challenge["record_value"]}"')
    with recorder.step("verify a domain"):
        verified = api.client.post(f"/api/v1/sso/domains/{claim['id']}/verify", headers=owner.headers)
    assert verified.status_code == 200, verified.text

    mapped = api.client.put(
        f"/api/v1/sso/connections/{connection['id']}/role-mapping",
        json={"default_role": "viewer", "mappings": [{"group": "eng", "role": "member"}]},
        headers=owner.headers,
    )
    assert mapped.status_code == 200, mapped.text
    scim_token = api.client.post("/api/v1/scim-tokens", json={"name": "idp"}, headers=owner.headers).json()
    scim = {"Authorization": f"Bearer {scim_token['token']}", "content-type": SCIM}
    user = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "jane@acme.example"}
    provisioned = api.client.post("/scim/v2/Users", json=user, headers=scim)
    assert provisioned.status_code == 201, provisioned.text
    token = trust_dev_idp().issue("jane@acme.example", provider=connection["provider_name"], groups=["eng"])
    with recorder.step("federated sign-in (`POST /api/v1/sessions`)"):
        signed_in = api.client.post("/api/v1/sessions", json={"id_token": token})
    assert signed_in.status_code == 201, signed_in.text
    assert signed_in.json()["role"] == "member"

    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "active", "value": False}],
    }
    with recorder.step("SCIM deactivate (`PATCH /scim/v2/Users/{id}` `active: false`)"):
        deactivated = api.client.patch(f"/scim/v2/Users/{provisioned.json()['id']}", json=patch, headers=scim)
    assert deactivated.status_code == 200, deactivated.text
    jane = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    assert api.client.get("/api/v1/projects", headers=jane).status_code in {401, 403}

    key = api.client.post(
        "/api/v1/api-keys",
        json={"name": "ci", "scopes": ["projects:read"], "expires_in_days": 30},
        headers=owner.headers,
    ).json()
    basic = base64.b64encode(f"{key['client_id']}:{key['client_secret']}".encode()).decode()
    with recorder.step("API key exchange (`POST /api/v1/sessions/token`)"):
        exchanged = api.client.post(
            "/api/v1/sessions/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )
    assert exchanged.status_code == 200, exchanged.text

    with recorder.step("delete an OIDC connection"):
        deleted = api.client.delete(f"/api/v1/sso/connections/{connection['id']}", headers=owner.headers)
    assert deleted.status_code == 204, deleted.text

    assert recorder.steps == documented()
