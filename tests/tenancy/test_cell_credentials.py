"""Credentials and keys that name no tenant (an API key, a SCIM token, a verified e-mail domain) live in
their tenant's cell: a dedicated-cell tenant's work through them must find it there, and reach nothing
of any other tenant."""

from __future__ import annotations

import base64

import psycopg

from saascore.db.cells import POOLED_CELL
from tests.integration.api.harness import api
from tests.integration.api.routes.test_sso_domains import _connection, _verified_domain
from tests.support.cells import DEDICATED_CELL
from tests.support.sso import cognito_pool, dns_zone

__all__ = ["api", "cognito_pool", "dns_zone"]

SCIM = "application/scim+json"


def test_an_api_key_of_a_dedicated_cell_tenant_exchanges_and_reaches_only_its_tenant(api, cells):
    cells.place("big-co")
    big, small = api.sign_up("big-co"), api.sign_up()
    api.client.post("/api/v1/projects", json={"name": "small-secret"}, headers=small.headers)
    api.client.post("/api/v1/projects", json={"name": "big-project"}, headers=big.headers)
    created = api.client.post(
        "/api/v1/api-keys",
        json={"name": "ci", "scopes": ["projects:read"], "expires_in_days": 30},
        headers=big.headers,
    )
    assert created.status_code == 201, created.text
    key = created.json()
    basic = base64.b64encode(f"{key['client_id']}:{key['client_secret']}".encode()).decode()
    token = api.client.post(
        "/api/v1/sessions/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert token.status_code == 200, token.text
    listed = api.client.get(
        "/api/v1/projects", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert listed.status_code == 200, listed.text
    assert [p["name"] for p in listed.json()["items"]] == ["big-project"]


def test_a_scim_token_of_a_dedicated_cell_tenant_provisions_in_its_cell(api, cells):
    cells.place("big-co")
    big, small = api.sign_up("big-co"), api.sign_up()
    created = api.client.post("/api/v1/scim-tokens", json={"name": "idp"}, headers=big.headers)
    assert created.status_code == 201, created.text
    headers = {"Authorization": f"Bearer {created.json()['token']}", "content-type": SCIM}
    user = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "jane@big-co.example",
        "emails": [{"value": "jane@big-co.example", "primary": True}],
    }
    assert api.client.post("/scim/v2/Users", json=user, headers=headers).status_code == 201
    listed = api.client.get("/scim/v2/Users", headers=headers).json()
    names = sorted(resource["userName"] for resource in listed["Resources"])
    assert "jane@big-co.example" in names
    assert small.email not in names
    placed = {
        name: scim_users(cells.database_of(name), big.tenant_id) for name in (DEDICATED_CELL, POOLED_CELL)
    }
    assert placed == {DEDICATED_CELL: 1, POOLED_CELL: 0}


def scim_users(database, tenant_id) -> int:
    with psycopg.connect(database.server.admin_url, dbname=database.name) as conn:
        row = conn.execute("SELECT count(*) FROM scim_users WHERE tenant_id = %s", (tenant_id,)).fetchone()
    assert row is not None
    return int(row[0])


def test_a_domain_a_dedicated_cell_tenant_verified_is_discovered_and_taken_for_every_other_cell(
    api, cells, cognito_pool, dns_zone
):
    cells.place("big-co")
    big, small = api.sign_up("big-co"), api.sign_up()
    connection = _connection(api, big)
    _verified_domain(api, big, dns_zone, "big-co.example", connection["id"])

    answer = api.client.post("/api/v1/sessions/discover", json={"email": "jane@big-co.example"}).json()
    assert answer["method"] == "sso"
    assert f"identity_provider={connection['provider_name']}" in answer["authorize_url"]

    claim = api.client.post("/api/v1/sso/domains", json={"domain": "big-co.example"}, headers=small.headers)
    assert claim.status_code == 409, claim.text
    assert "verified by another tenant" in claim.json()["detail"]
