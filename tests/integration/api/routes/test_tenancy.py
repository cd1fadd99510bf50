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


def test_custom_roles(api):
    owner = api.sign_up()
    created = api.client.post(
        "/api/v1/roles",
        json={"key": "auditor", "name": "Auditor", "permissions": ["audit:read", "projects:read"]},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    role = created.json()
    assert role["permissions"] == ["audit:read", "projects:read"]
    auditor = api.join(owner, "auditor")
    assert api.client.get("/api/v1/audit-logs", headers=auditor.headers).status_code == 200
    assert api.client.post("/api/v1/projects", json={"name": "x"}, headers=auditor.headers).status_code == 403
    in_use = api.client.delete(f"/api/v1/roles/{role['id']}", headers=owner.headers)
    assert in_use.status_code == 409
    updated = api.client.patch(
        f"/api/v1/roles/{role['id']}",
        json={"permissions": ["projects:read", "projects:create"]},
        headers=owner.headers,
    )
    assert updated.status_code == 200
    assert api.client.post("/api/v1/projects", json={"name": "x"}, headers=auditor.headers).status_code == 201
    unknown = api.client.post(
        "/api/v1/roles",
        json={"key": "bad", "name": "Bad", "permissions": ["nope:nope"]},
        headers=owner.headers,
    )
    assert unknown.status_code == 404
    system = next(
        r for r in api.client.get("/api/v1/roles", headers=owner.headers).json() if r["key"] == "owner"
    )
    assert api.client.delete(f"/api/v1/roles/{system['id']}", headers=owner.headers).status_code == 409
    assert (
        api.client.post(
            "/api/v1/roles",
            json={"key": "auditor", "name": "Again", "permissions": []},
            headers=owner.headers,
        ).status_code
        == 409
    )
    catalogue = api.client.get("/api/v1/permissions", headers=owner.headers).json()
    assert {"id": "projects:read", "resource": "projects", "action": "read"}.items() <= catalogue[
        [p["id"] for p in catalogue].index("projects:read")
    ].items()


def test_tenant_profile_and_read_only_access_level(api):
    owner = api.sign_up()
    patched = api.client.patch(
        "/api/v1/tenant", json={"name": "Renamed", "settings": {"theme": "dark"}}, headers=owner.headers
    )
    assert patched.status_code == 200
    assert patched.json()["name"] == "Renamed"
    assert patched.json()["settings"] == {"theme": "dark"}
    api.owner_sql(owner.tenant_id, "UPDATE tenants SET access_level = 'read_only'")
    assert api.client.get("/api/v1/projects", headers=owner.headers).status_code == 200
    blocked = api.client.post("/api/v1/projects", json={"name": "x"}, headers=owner.headers)
    assert blocked.status_code == 403
    assert blocked.json()["access_level"] == "read_only"


def test_audit_log_filters_and_pages(api):
    owner = api.sign_up()
    for name in ("a", "b", "c"):
        api.client.post("/api/v1/projects", json={"name": name}, headers=owner.headers)
    url = "/api/v1/audit-logs?action=project.created&limit=2"
    first = api.client.get(url, headers=owner.headers).json()
    assert len(first["items"]) == 2
    rest = api.client.get(f"{url}&cursor={first['next_cursor']}", headers=owner.headers).json()
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None
    assert [e["after"]["name"] for e in first["items"] + rest["items"]] == ["c", "b", "a"]
    newest = first["items"][0]["created_at"]
    until = api.client.get(
        "/api/v1/audit-logs", params={"action": "project.created", "until": newest}, headers=owner.headers
    ).json()
    assert [e["after"]["name"] for e in until["items"]] == ["b", "a"]
    since = api.client.get("/api/v1/audit-logs", params={"since": newest}, headers=owner.headers).json()
    assert [e["after"]["name"] for e in since["items"]] == ["c"]
    mine = api.client.get(
        f"/api/v1/audit-logs?actor_user_id={owner.user_id}&limit=100", headers=owner.headers
    ).json()
    assert {e["action"] for e in mine["items"]} >= {"tenant.created", "session.created", "project.created"}
