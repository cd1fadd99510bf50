"""/api/v1/roles through the real app: custom roles."""

from __future__ import annotations


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
