"""/api/v1/tenant through the real app: the profile and the read-only access level."""

from __future__ import annotations


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
