"""Tenant API keys through the real app: create/list/revoke, the client-credentials exchange, and what a
key's token may do (its scopes, its revocation through the session check, audit and rate-limit naming)."""

from __future__ import annotations

import base64
import uuid

import pytest

from saascore.problems import PROBLEM_CONTENT_TYPE

TOKEN = "/api/v1/sessions/token"


def _create(api, owner, *, scopes=("projects:read",), days=30, name="ci"):
    response = api.client.post(
        "/api/v1/api-keys",
        json={"name": name, "scopes": list(scopes), "expires_in_days": days},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def _exchange(api, key, **extra):
    return api.client.post(
        TOKEN,
        data={"grant_type": "client_credentials", **extra},
        headers={
            "Authorization": "Basic "
            + base64.b64encode(f"{key['client_id']}:{key['client_secret']}".encode()).decode()
        },
    )


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_key_is_shown_once_and_stored_hashed(api):
    owner = api.sign_up()
    key = _create(api, owner)
    assert key["key"] == f"{key['client_id']}_{key['client_secret']}"
    assert key["client_id"].startswith("sk_")
    assert len(key["client_secret"]) == 64
    listed = api.client.get("/api/v1/api-keys", headers=owner.headers).json()["items"]
    assert [item["id"] for item in listed] == [key["id"]]
    assert "key" not in listed[0]
    assert "client_secret" not in listed[0]
    assert listed[0]["last_used_at"] is None
    stored = api.owner_sql(owner.tenant_id, "SELECT secret_hash FROM api_keys WHERE id = %s", (key["id"],))
    assert bytes(stored[0][0]) != key["client_secret"].encode()
    assert key["client_secret"] not in str(
        api.owner_sql(owner.tenant_id, "SELECT after::text FROM audit_logs WHERE action = 'api_key.created'")
    )


def test_exchange_gives_a_token_limited_to_the_key_scopes(api):
    owner = api.sign_up()
    key = _create(api, owner, scopes=["projects:read"])
    response = _exchange(api, key)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "projects:read"
    assert 0 < body["expires_in"] <= 900
    assert response.headers["cache-control"] == "no-store"
    token = body["access_token"]
    assert api.client.get("/api/v1/projects", headers=_bearer(token)).status_code == 200
    denied = api.client.post("/api/v1/projects", json={"name": "x"}, headers=_bearer(token))
    assert denied.status_code == 403
    assert denied.json()["permission"] == "projects:create"
    me = api.client.get("/api/v1/me", headers=_bearer(token))
    assert me.status_code == 200
    assert me.json()["permissions"] == ["projects:read"]
    listed = api.client.get("/api/v1/api-keys", headers=owner.headers).json()["items"]
    assert listed[0]["last_used_at"] is not None


def test_credentials_in_the_body_and_json_are_accepted(api):
    owner = api.sign_up()
    key = _create(api, owner)
    form = api.client.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": key["client_id"],
            "client_secret": key["client_secret"],
        },
    )
    assert form.status_code == 200, form.text
    as_json = api.client.post(
        TOKEN,
        json={
            "grant_type": "client_credentials",
            "client_id": key["client_id"],
            "client_secret": key["client_secret"],
        },
    )
    assert as_json.status_code == 200, as_json.text


def test_the_edge_forwarded_authorization_is_read_first(api):
    owner = api.sign_up()
    key = _create(api, owner)
    basic = base64.b64encode(f"{key['client_id']}:{key['client_secret']}".encode()).decode()
    response = api.client.post(
        TOKEN,
        data={"grant_type": "client_credentials"},
        headers={"X-Auth-Viewer-Authorization": f"Basic {basic}", "Authorization": "AWS4-HMAC-SHA256 oac"},
    )
    assert response.status_code == 200, response.text


def test_revoking_a_key_ends_its_tokens_at_once(api):
    owner = api.sign_up()
    key = _create(api, owner)
    token = _exchange(api, key).json()["access_token"]
    assert api.client.get("/api/v1/projects", headers=_bearer(token)).status_code == 200
    revoked = api.client.delete(f"/api/v1/api-keys/{key['id']}", headers=owner.headers)
    assert revoked.status_code == 204
    after = api.client.get("/api/v1/projects", headers=_bearer(token))
    assert after.status_code == 401
    again = _exchange(api, key)
    assert again.status_code == 401
    assert again.json()["detail"] == "the API key was revoked"
    assert again.json()["error"] == "invalid_client"
    assert again.headers["content-type"] == PROBLEM_CONTENT_TYPE
    assert again.headers["www-authenticate"].startswith("Basic")
    assert api.client.delete(f"/api/v1/api-keys/{key['id']}", headers=owner.headers).status_code == 204
    actions = [
        row[0]
        for row in api.owner_sql(
            owner.tenant_id,
            "SELECT action FROM audit_logs WHERE resource_type = 'api_key' ORDER BY created_at",
        )
    ]
    assert actions == ["api_key.created", "api_key.revoked"]


def test_expired_and_wrong_keys_are_401_with_a_reason(api):
    owner = api.sign_up()
    key = _create(api, owner)
    wrong = _exchange(api, {**key, "client_secret": "0" * 64})
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "the API key is not valid"
    unknown = _exchange(api, {**key, "client_id": "sk_" + "0" * 16})
    assert unknown.status_code == 401
    assert unknown.json()["detail"] == "the API key is not valid"
    malformed = _exchange(api, {**key, "client_id": "nope"})
    assert malformed.status_code == 401
    api.owner_sql(owner.tenant_id, "UPDATE api_keys SET expires_at = now() - interval '1 second'")
    expired = _exchange(api, key)
    assert expired.status_code == 401
    assert expired.json()["detail"] == "the API key has expired"


def test_a_key_stops_when_its_creator_leaves(api):
    owner = api.sign_up()
    admin = api.join(owner, "admin")
    key = _create(api, admin, scopes=["projects:read"])
    token = _exchange(api, key).json()["access_token"]
    members = api.client.get("/api/v1/members", headers=owner.headers).json()["items"]
    admin_member = next(m for m in members if m.get("user_id") == str(admin.user_id))
    assert (
        api.client.delete(f"/api/v1/members/{admin_member['id']}", headers=owner.headers).status_code == 204
    )
    assert api.client.get("/api/v1/projects", headers=_bearer(token)).status_code == 401  # sessions revoked
    refused = _exchange(api, key)
    assert refused.status_code == 401
    assert "no longer a member" in refused.json()["detail"]


def test_scopes_cannot_exceed_the_creator(api):
    owner = api.sign_up()
    admin = api.join(owner, "admin")
    response = api.client.post(
        "/api/v1/api-keys", json={"name": "x", "scopes": ["billing:manage"]}, headers=admin.headers
    )
    assert response.status_code == 403
    assert response.json()["missing"] == ["billing:manage"]
    member = api.join(owner, "member")
    assert (
        api.client.post(
            "/api/v1/api-keys", json={"name": "x", "scopes": ["projects:read"]}, headers=member.headers
        ).status_code
        == 403
    )
    assert api.owner_sql(owner.tenant_id, "SELECT count(*) FROM api_keys")[0][0] == 0


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({}, 400, "invalid_request"),
        ({"grant_type": "client_credentials"}, 401, "invalid_client"),
    ],
)
def test_bad_token_requests(api, body, status, error):
    response = api.client.post(TOKEN, data=body)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error


def test_both_credential_spellings_at_once_or_repeated_parameters_are_refused(api):
    owner = api.sign_up()
    key = _create(api, owner)
    both = _exchange(api, key, client_id=key["client_id"], client_secret=key["client_secret"])
    assert both.status_code == 400
    assert both.json()["error"] == "invalid_request"
    repeated = api.client.post(
        TOKEN,
        content=b"grant_type=client_credentials&grant_type=client_credentials",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert repeated.status_code == 400
    too_wide = _exchange(api, key, scope="projects:read projects:delete")
    assert too_wide.status_code == 400
    assert too_wide.json()["error"] == "invalid_scope"


def test_writes_with_a_key_are_audited_with_the_key(api):
    owner = api.sign_up()
    key = _create(api, owner, scopes=["projects:create", "projects:read"])
    token = _exchange(api, key).json()["access_token"]
    created = api.client.post("/api/v1/projects", json={"name": "by machine"}, headers=_bearer(token))
    assert created.status_code == 201, created.text
    rows = api.owner_sql(
        owner.tenant_id,
        "SELECT actor_user_id, actor_api_key_id FROM audit_logs WHERE action = 'project.created'",
    )
    assert rows == [(owner.user_id, uuid.UUID(key["id"]))]
    entries = api.client.get("/api/v1/audit-logs?action=project.created", headers=owner.headers).json()[
        "items"
    ]
    assert entries[0]["actor_api_key_id"] == key["id"]


def test_other_tenants_keys_are_invisible(api):
    a = api.sign_up()
    b = api.sign_up()
    b_key = _create(api, b)
    assert api.client.get("/api/v1/api-keys", headers=a.headers).json()["items"] == []
    assert api.client.delete(f"/api/v1/api-keys/{b_key['id']}", headers=a.headers).status_code == 404
    token = _exchange(api, b_key).json()["access_token"]
    # B's key token carries B's tenant; A's projects are never reachable with it.
    api.client.post("/api/v1/projects", json={"name": "a-only"}, headers=a.headers)
    listed = api.client.get("/api/v1/projects", headers=_bearer(token)).json()["items"]
    assert listed == []
