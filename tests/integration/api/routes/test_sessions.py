from __future__ import annotations

import uuid

from saascore.billing.plans import TRIAL_PLAN


def test_sign_up_creates_trial_tenant_owner_and_session(api):
    owner = api.sign_up("acme")
    assert owner.role == "owner"
    me = api.client.get("/api/v1/me", headers=owner.headers)
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["tenant_id"] == str(owner.tenant_id)
    assert body["plan"] == TRIAL_PLAN
    assert body["billing_status"] == "trialing"
    assert "billing:manage" in body["permissions"]
    assert body["tenants"] == [
        {"id": str(owner.tenant_id), "name": "Acme", "slug": "acme", "role": "owner", "status": "active"}
    ]
    tenant = api.client.get("/api/v1/tenant", headers=owner.headers).json()
    assert tenant["trial_ends_at"] is not None


def test_duplicate_slug_is_409(api):
    api.sign_up("acme")
    response = api.client.post(
        "/api/v1/signup",
        json={"id_token": api.id_token(email="x@y.example"), "tenant_name": "Acme", "tenant_slug": "acme"},
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


def test_sign_in_requires_membership(api):
    owner = api.sign_up("acme")
    stranger = api.client.post(
        "/api/v1/sessions", json={"id_token": api.id_token(email="eve@evil.example"), "tenant": "acme"}
    )
    assert stranger.status_code == 403
    missing = api.client.post(
        "/api/v1/sessions",
        json={"id_token": api.id_token(email="eve@evil.example"), "tenant": "no-such-tenant"},
    )
    assert missing.status_code == 403
    assert missing.json()["detail"] == stranger.json()["detail"]
    again = api.sign_in("acme", email=owner.email)
    assert again.session_id != owner.session_id
    assert again.tenant_id == owner.tenant_id


def test_refresh_rotates_and_reuse_revokes_family(api):
    owner = api.sign_up()
    first = api.client.post("/api/v1/sessions/refresh", json={"refresh_token": owner.refresh_token})
    assert first.status_code == 200, first.text
    rotated = first.json()
    assert rotated["refresh_token"] != owner.refresh_token
    assert rotated["session_id"] == str(owner.session_id)
    # Replaying the old token revokes the session: the new refresh token and access tokens stop working.
    reuse = api.client.post("/api/v1/sessions/refresh", json={"refresh_token": owner.refresh_token})
    assert reuse.status_code == 401
    assert "revoked" in reuse.json()["detail"]
    after = api.client.post("/api/v1/sessions/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert after.status_code == 401
    me = api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {rotated['access_token']}"})
    assert me.status_code == 401


def test_refresh_with_garbage_is_401(api):
    for token in ("nope", f"{uuid.uuid4()}.secret", "a.b.c"):
        response = api.client.post("/api/v1/sessions/refresh", json={"refresh_token": token})
        assert response.status_code == 401, token


def test_sign_out_revokes_session(api):
    owner = api.sign_up()
    assert api.client.delete("/api/v1/sessions/current", headers=owner.headers).status_code == 204
    assert api.client.get("/api/v1/me", headers=owner.headers).status_code == 401
    refresh = api.client.post("/api/v1/sessions/refresh", json={"refresh_token": owner.refresh_token})
    assert refresh.status_code == 401


def test_cookie_session_and_refresh_cookie(api):
    owner = api.sign_up()
    client = api.client
    client.cookies.clear()
    client.cookies.set("__Host-session", owner.access_token)
    assert client.get("/api/v1/me").status_code == 200
    client.cookies.clear()
    client.cookies.set("__Host-refresh", owner.refresh_token)
    assert client.post("/api/v1/sessions/refresh").status_code == 200
    client.cookies.clear()
