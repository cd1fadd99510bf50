"""/api/v1/audit-logs through the real app: filters and pages."""

from __future__ import annotations


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
