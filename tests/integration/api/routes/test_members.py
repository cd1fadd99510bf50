"""/api/v1/members through the real app: invitations, role changes, the last owner, grants."""

from __future__ import annotations


def member_id(api, owner, session):
    members = api.client.get("/api/v1/members", headers=owner.headers).json()["items"]
    return next(m["id"] for m in members if m["user_id"] == str(session.user_id))


def test_invite_accept_change_role_remove(api):
    owner = api.sign_up()
    viewer = api.join(owner, "viewer")
    assert viewer.role == "viewer"
    assert api.client.post("/api/v1/projects", json={"name": "x"}, headers=viewer.headers).status_code == 403
    vid = member_id(api, owner, viewer)
    promoted = api.client.patch(f"/api/v1/members/{vid}", json={"role": "member"}, headers=owner.headers)
    assert promoted.status_code == 200
    assert promoted.json()["role"] == "member"
    # Permissions come from the database on each request, so the change applies to the live token.
    assert api.client.post("/api/v1/projects", json={"name": "x"}, headers=viewer.headers).status_code == 201
    listed = api.client.get("/api/v1/members?limit=1", headers=owner.headers).json()
    assert len(listed["items"]) == 1
    assert listed["next_cursor"]
    second = api.client.get(
        f"/api/v1/members?limit=1&cursor={listed['next_cursor']}", headers=owner.headers
    ).json()
    assert second["items"][0]["id"] != listed["items"][0]["id"]


def test_unverified_email_cannot_accept_invitation(api):
    owner = api.sign_up()
    invited = api.client.post(
        "/api/v1/members", json={"email": "new@x.example", "role": "member"}, headers=owner.headers
    )
    assert invited.status_code == 201
    response = api.client.post(
        "/api/v1/sessions",
        json={
            "id_token": api.id_token(email="new@x.example", email_verified=False),
            "tenant": str(owner.tenant_id),
        },
    )
    assert response.status_code == 403


def test_duplicate_invite_is_409_and_member_limit_is_402(api):
    owner = api.sign_up()
    api.client.post("/api/v1/members", json={"email": "a@x.example"}, headers=owner.headers)
    assert (
        api.client.post("/api/v1/members", json={"email": "A@x.example"}, headers=owner.headers).status_code
        == 409
    )
    api.set_plan(owner.tenant_id, "free")
    api.client.post("/api/v1/members", json={"email": "b@x.example"}, headers=owner.headers)
    refused = api.client.post("/api/v1/members", json={"email": "c@x.example"}, headers=owner.headers)
    assert refused.status_code == 402


def test_last_owner_cannot_be_removed_or_demoted(api):
    owner = api.sign_up()
    oid = member_id(api, owner, owner)
    assert api.client.delete(f"/api/v1/members/{oid}", headers=owner.headers).status_code == 409
    assert (
        api.client.patch(f"/api/v1/members/{oid}", json={"role": "admin"}, headers=owner.headers).status_code
        == 409
    )
    second = api.join(owner, "owner")
    assert (
        api.client.patch(f"/api/v1/members/{oid}", json={"role": "admin"}, headers=second.headers).status_code
        == 200
    )


def test_admin_cannot_mint_owners_or_touch_owners(api):
    owner = api.sign_up()
    admin = api.join(owner, "admin")
    refused = api.client.post(
        "/api/v1/members", json={"email": "o@x.example", "role": "owner"}, headers=admin.headers
    )
    assert refused.status_code == 403
    assert "billing:manage" in refused.json()["missing"]
    oid = member_id(api, owner, owner)
    assert api.client.delete(f"/api/v1/members/{oid}", headers=admin.headers).status_code == 403
