"""GET /api/v2/events (the first v2 operation): the tenant's event log, newest first, filtered and paged."""

from __future__ import annotations


def test_the_event_log_lists_the_tenants_facts_newest_first(api, owner):
    for name in ("a", "b", "c"):
        api.client.post("/api/v1/projects", json={"name": name}, headers=owner.headers)
    api.client.post(
        "/api/v1/members", json={"email": "bo@events.example", "role": "viewer"}, headers=owner.headers
    )
    page = api.client.get("/api/v2/events?limit=2", headers=owner.headers)
    assert page.status_code == 200, page.text
    body = page.json()
    assert [e["type"] for e in body["items"]] == ["member.added", "project.created"]
    assert body["items"][1]["data"]["project"]["name"] == "c"
    assert body["items"][0]["actor_user_id"] == str(owner.user_id)
    rest = api.client.get(
        f"/api/v2/events?limit=2&cursor={body['next_cursor']}", headers=owner.headers
    ).json()
    assert [e["data"]["project"]["name"] for e in rest["items"]] == ["b", "a"]
    only = api.client.get("/api/v2/events?type=member.added", headers=owner.headers).json()
    assert [e["type"] for e in only["items"]] == ["member.added"]
    assert "deprecation" not in page.headers


def test_other_tenants_events_and_members_are_kept_out(api, owner):
    api.client.post("/api/v1/projects", json={"name": "secret"}, headers=owner.headers)
    stranger = api.sign_up()
    assert api.client.get("/api/v2/events", headers=stranger.headers).json()["items"] == []
    member = api.join(owner, "member")
    assert api.client.get("/api/v2/events", headers=member.headers).status_code == 403
    bad = api.client.get("/api/v2/events?cursor=forged", headers=owner.headers)
    assert bad.status_code == 400
