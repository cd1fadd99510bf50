"""Just-in-time provisioning and group → role mapping, end to end through the API with the local dev IdP's
federated Cognito token shapes (``identities`` array, ``custom:groups``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from api.services.identity import get_idp_verifier
from local.idp import DevIdp
from tests.support.sso import cognito_pool, saml_metadata

__all__ = ["cognito_pool"]


def _connection(api, owner) -> dict[str, Any]:
    response = api.client.post(
        "/api/v1/sso/connections",
        json={
            "protocol": "saml",
            "display_name": "Entra",
            "metadata_xml": saml_metadata(),
            "groups_attribute": "g",
        },
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _mapping(api, session, connection_id: str, default_role: str | None, **mappings: str):
    return api.client.put(
        f"/api/v1/sso/connections/{connection_id}/role-mapping",
        json={
            "default_role": default_role,
            "mappings": [{"group": g, "role": r} for g, r in mappings.items()],
        },
        headers=session.headers,
    )


def _sign_in(api, token: str, tenant: str | None = None):
    body = {"id_token": token} if tenant is None else {"id_token": token, "tenant": tenant}
    return api.client.post("/api/v1/sessions", json=body)


def test_first_federated_sign_in_provisions_and_later_ones_follow_the_groups(
    api, cognito_pool, tmp_path, monkeypatch
):
    owner = api.sign_up()
    api.set_plan(owner.tenant_id, "pro")
    connection = _connection(api, owner)
    name = connection["provider_name"]
    auditor = api.client.post(
        "/api/v1/roles",
        json={"key": "auditor", "name": "Auditor", "permissions": ["audit:read", "projects:read"]},
        headers=owner.headers,
    )
    assert auditor.status_code == 201
    mapped = _mapping(
        api, owner, connection["id"], "viewer", eng="member", **{"it-admins": "admin", "audit": "auditor"}
    )
    assert mapped.status_code == 200, mapped.text
    assert mapped.json() == {
        "default_role": "viewer",
        "mappings": [
            {"group": "audit", "role": "auditor"},
            {"group": "eng", "role": "member"},
            {"group": "it-admins", "role": "admin"},
        ],
    }
    idp = _trust_dev_idp(tmp_path, monkeypatch)

    # First sign-in: no invitation, no tenant named: the provider says which tenant; groups say which role.
    first = _sign_in(api, idp.issue("jane@acme.example", provider=name, groups=["eng"]))
    assert first.status_code == 201, first.text
    assert first.json()["tenant_id"] == str(owner.tenant_id)
    assert first.json()["role"] == "member"
    jane = {"Authorization": f"Bearer {first.json()['access_token']}"}
    assert api.client.post("/api/v1/projects", json={"name": "p"}, headers=jane).status_code == 201

    # Several groups map: the role with the most permissions wins.
    again = _sign_in(api, idp.issue("jane@acme.example", provider=name, groups=["eng", "it-admins"]))
    assert again.json()["role"] == "admin"
    assert again.json()["user_id"] == first.json()["user_id"]
    assert (
        _sign_in(api, idp.issue("jane@acme.example", provider=name, groups=["audit"])).json()["role"]
        == "auditor"
    )
    # No group maps: the default role.
    assert (
        _sign_in(api, idp.issue("jane@acme.example", provider=name, groups=["sales"])).json()["role"]
        == "viewer"
    )

    members = api.client.get("/api/v1/members", headers=owner.headers).json()
    listed = members["items"] if isinstance(members, dict) else members
    assert sorted(member["role"] for member in listed) == ["owner", "viewer"]
    actions = [
        entry["action"]
        for entry in api.client.get("/api/v1/audit-logs", headers=owner.headers).json()["items"]
    ]
    assert "member.provisioned" in actions
    assert actions.count("member.role_synced") == 3

    # Without a default role, groups that map to nothing are refused, and the membership is left as it was.
    assert _mapping(api, owner, connection["id"], None, eng="member").status_code == 200
    refused = _sign_in(api, idp.issue("jane@acme.example", provider=name, groups=["sales"]))
    assert refused.status_code == 403
    assert "no default role" in refused.json()["detail"]
    nobody = _sign_in(api, idp.issue("newcomer@acme.example", provider=name))
    assert nobody.status_code == 403


def _trust_dev_idp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DevIdp:
    idp = DevIdp("http://127.0.0.1:8000/_local/idp", tmp_path / "idp.pem")
    monkeypatch.setenv("IDP_ISSUER", idp.issuer)
    monkeypatch.setenv("IDP_AUDIENCES", idp.client_id)
    monkeypatch.setenv("IDP_JWKS", json.dumps(idp.jwks()))
    get_idp_verifier.cache_clear()
    from api.settings import get_settings

    get_settings.cache_clear()
    return idp


def test_nobody_maps_a_group_to_more_than_they_hold(api, cognito_pool):
    owner = api.sign_up()
    connection = _connection(api, owner)
    admin = api.join(owner, "admin")
    escalation = _mapping(api, admin, connection["id"], None, everyone="owner")
    assert escalation.status_code == 403
    # What the owner holds and an admin does not (billing, customer exports).
    assert escalation.json()["missing"] == ["billing:manage", "exports:manage"]
    billing = api.client.post(
        "/api/v1/roles",
        json={"key": "payer", "name": "Payer", "permissions": ["billing:manage"]},
        headers=owner.headers,
    )
    assert billing.status_code == 201
    assert _mapping(api, admin, connection["id"], "payer").status_code == 403
    assert _mapping(api, admin, connection["id"], "member", eng="admin").status_code == 200
    unknown = _mapping(api, owner, connection["id"], None, eng="nope")
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["pointer"] == "#/mappings/0/role"
    duplicate = api.client.put(
        f"/api/v1/sso/connections/{connection['id']}/role-mapping",
        json={
            "default_role": None,
            "mappings": [{"group": "a", "role": "member"}, {"group": "a", "role": "admin"}],
        },
        headers=owner.headers,
    )
    assert duplicate.status_code == 422
    # Unchanged by the refused writes.
    current = api.client.get(
        f"/api/v1/sso/connections/{connection['id']}/role-mapping", headers=owner.headers
    )
    assert current.json() == {"default_role": "member", "mappings": [{"group": "eng", "role": "admin"}]}


def test_which_tenant_a_federated_token_signs_into(api, cognito_pool, tmp_path, monkeypatch):
    a, b = api.sign_up(), api.sign_up()
    a_connection, b_connection = _connection(api, a), _connection(api, b)
    for session, connection in ((a, a_connection), (b, b_connection)):
        assert _mapping(api, session, connection["id"], "member").status_code == 200
    idp = _trust_dev_idp(tmp_path, monkeypatch)
    via_b = idp.issue("sam@b.example", provider=b_connection["provider_name"])
    assert _sign_in(api, via_b).json()["tenant_id"] == str(b.tenant_id)
    # B's provider does not provision anyone into A.
    assert _sign_in(api, via_b, tenant=str(a.tenant_id)).status_code == 403
    assert (
        _sign_in(api, idp.issue("x@b.example", provider="sso-000000000000-000000000000")).status_code == 403
    )
    plain = _sign_in(api, idp.issue("x@b.example"))
    assert plain.status_code == 422
    assert plain.json()["errors"][0]["pointer"] == "#/tenant"


def test_group_sync_never_demotes_the_last_owner(api, cognito_pool, tmp_path, monkeypatch):
    owner = api.sign_up()
    connection = _connection(api, owner)
    name = connection["provider_name"]
    assert _mapping(api, owner, connection["id"], "viewer", founders="owner").status_code == 200
    idp = _trust_dev_idp(tmp_path, monkeypatch)
    founder = _sign_in(api, idp.issue("ada@acme.example", provider=name, groups=["founders"]))
    assert founder.json()["role"] == "owner"
    members = api.client.get("/api/v1/members", headers=owner.headers).json()
    listed = members["items"] if isinstance(members, dict) else members
    (original,) = [member for member in listed if member["user_id"] == str(owner.user_id)]
    assert api.client.delete(f"/api/v1/members/{original['id']}", headers=owner.headers).status_code == 204
    # Ada is now the only owner: her IdP groups no longer say so, but she stays owner.
    assert _sign_in(api, idp.issue("ada@acme.example", provider=name, groups=[])).json()["role"] == "owner"


def test_a_connection_without_a_mapping_leaves_membership_rules_as_they_were(
    api, cognito_pool, tmp_path, monkeypatch
):
    owner = api.sign_up()
    connection = _connection(api, owner)
    invited = api.client.post(
        "/api/v1/members", json={"email": "jane@acme.example", "role": "admin"}, headers=owner.headers
    )
    assert invited.status_code == 201
    idp = _trust_dev_idp(tmp_path, monkeypatch)
    name = connection["provider_name"]
    assert _sign_in(api, idp.issue("stranger@acme.example", provider=name)).status_code == 403
    jane = _sign_in(api, idp.issue("jane@acme.example", provider=name, groups=["eng"]))
    assert jane.status_code == 201
    assert jane.json()["role"] == "admin"  # the invitation's role: nothing maps roles yet


def test_a_federated_sign_in_finds_a_dedicated_cell_tenants_provider(
    api, cognito_pool, cells, tmp_path, monkeypatch
):
    # The provider → tenant look-up runs before a tenant is known: each cell answers for its own tenants.
    cells.place("big-co")
    owner = api.sign_up("big-co")
    api.set_plan(owner.tenant_id, "pro")
    connection = _connection(api, owner)
    with psycopg.connect(cells.dedicated.server.admin_url, dbname=cells.dedicated.name) as conn:
        placed = conn.execute("SELECT count(*) FROM sso_connections WHERE id = %s", (connection["id"],))
        assert placed.fetchone() == (1,)  # the connection row lives in the dedicated cell
    assert _mapping(api, owner, connection["id"], "member").status_code == 200
    idp = _trust_dev_idp(tmp_path, monkeypatch)
    signed_in = _sign_in(api, idp.issue("jane@big-co.example", provider=connection["provider_name"]))
    assert signed_in.status_code == 201, signed_in.text
    assert signed_in.json()["tenant_id"] == str(owner.tenant_id)
    jane = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    assert api.client.post("/api/v1/projects", json={"name": "p"}, headers=jane).status_code == 201


SCIM_TYPE = "application/scim+json"
SCIM_PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _scim(api, method: str, path: str, token: str, body: dict[str, Any]):
    return api.client.request(
        method,
        f"/scim/v2{path}",
        json=body,
        headers={"Authorization": f"Bearer {token}", "content-type": SCIM_TYPE},
    )


def _patch(api, path: str, token: str, *operations: dict[str, Any]):
    return _scim(api, "PATCH", path, token, {"schemas": [SCIM_PATCH], "Operations": list(operations)})


def test_scim_wins_over_the_sign_in_groups_when_both_set_a_role(api, cognito_pool, tmp_path, monkeypatch):
    """Decision 0132: a role SCIM's group mapping grants stands at sign-in; with no mapped SCIM group the
    connection's mapping applies again; a person SCIM deactivated is refused, not provisioned again."""
    owner = api.sign_up()
    api.set_plan(owner.tenant_id, "pro")
    connection = _connection(api, owner)
    name = connection["provider_name"]
    assert _mapping(api, owner, connection["id"], "viewer", eng="member").status_code == 200
    idp = _trust_dev_idp(tmp_path, monkeypatch)

    def sign_in(*groups: str):
        return _sign_in(api, idp.issue("jane@acme.example", provider=name, groups=list(groups)))

    assert sign_in("eng").json()["role"] == "member"
    token = api.client.post("/api/v1/scim-tokens", json={"name": "idp"}, headers=owner.headers).json()[
        "token"
    ]
    user = _scim(
        api,
        "POST",
        "/Users",
        token,
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "jane@acme.example"},
    )
    assert user.status_code == 201, user.text
    scim_id = user.json()["id"]
    group = _scim(
        api,
        "POST",
        "/Groups",
        token,
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Admins"},
    ).json()
    assert (
        api.client.put(
            f"/api/v1/scim-groups/{group['id']}/role", json={"role": "admin"}, headers=owner.headers
        ).status_code
        == 200
    )
    added = _patch(
        api,
        f"/Groups/{group['id']}",
        token,
        {"op": "add", "path": "members", "value": [{"value": scim_id}]},
    )
    assert added.status_code == 200, added.text

    # SCIM's mapped group sets the role at once, and the next sign-in's groups do not override it.
    session = sign_in("eng")
    assert session.json()["role"] == "admin"
    jane = {"Authorization": f"Bearer {session.json()['access_token']}"}
    assert api.client.get("/api/v1/me", headers=jane).json()["role"] == "admin"

    # Out of the mapped SCIM group: SCIM takes its role back at once, and the next sign-in's groups decide.
    removed = _patch(
        api,
        f"/Groups/{group['id']}",
        token,
        {"op": "remove", "path": f'members[value eq "{scim_id}"]'},
    )
    assert removed.status_code == 200
    assert api.client.get("/api/v1/me", headers=jane).json()["role"] == "member"
    assert sign_in().json()["role"] == "viewer"

    # Deactivated by SCIM: the session ends and a new federated sign-in does not provision them again.
    off = _patch(api, f"/Users/{scim_id}", token, {"op": "replace", "path": "active", "value": False})
    assert off.status_code == 200, off.text
    assert api.client.get("/api/v1/me", headers=jane).status_code == 401
    refused = sign_in("eng")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert "deactivated" in refused.json()["detail"]
    members = api.client.get("/api/v1/members", headers=owner.headers).json()
    listed = members["items"] if isinstance(members, dict) else members
    assert [member["role"] for member in listed] == ["owner"]

    # Reactivated by SCIM: federated sign-in works again, with the connection's mapping.
    on = _patch(api, f"/Users/{scim_id}", token, {"op": "replace", "path": "active", "value": True})
    assert on.status_code == 200
    assert sign_in("eng").json()["role"] == "member"
