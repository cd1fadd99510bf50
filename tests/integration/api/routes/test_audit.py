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


def _point_at(monkeypatch, **env):
    from saascore.db.connection import get_database
    from saascore.settings import get_database_settings

    get_database().discard()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_database_settings.cache_clear()
    get_database.cache_clear()


def test_the_audit_log_is_listed_from_the_replica_within_its_lag_and_from_the_primary_beyond(
    api, pg, pg_standby, monkeypatch
):
    import psycopg

    from tests.support.replica import standby_app_url

    owner = api.sign_up()
    api.client.post("/api/v1/projects", json={"name": "replicated"}, headers=owner.headers)
    _point_at(
        monkeypatch, DATABASE_READ_URL=standby_app_url(pg_standby, pg), DB_MAX_REPLICA_LAG_SECONDS="3600"
    )
    listed = "/api/v1/audit-logs?action=project.created"

    def names():
        response = api.client.get(listed, headers=owner.headers)
        assert response.status_code == 200, response.text
        return [entry["after"]["name"] for entry in response.json()["items"]]

    assert names() == ["replicated"]
    with psycopg.connect(pg_standby.urls.admin, autocommit=True) as admin:
        admin.execute("SELECT pg_wal_replay_pause()")
        try:
            created = api.client.post("/api/v1/projects", json={"name": "fresh"}, headers=owner.headers)
            assert created.status_code == 201  # a write never goes near the replica
            pg_standby.wait_for_receive()
            assert names() == ["replicated"]  # the replica, behind by the paused replay
            _point_at(monkeypatch, DB_MAX_REPLICA_LAG_SECONDS="0")
            assert names() == ["fresh", "replicated"]  # too far behind: the primary
        finally:
            admin.execute("SELECT pg_wal_replay_resume()")
