"""The API through PgBouncer in transaction pooling mode (the RDS Proxy stand-in) and directly.

A server connection changes hands after every transaction, so anything the API kept in session state
(tenant setting, prepared statements, session locks) would leak to another client or break here.
"""

from __future__ import annotations

from saascore.db.connection import get_database
from saascore.settings import get_database_settings


def test_full_flow(api, app_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", app_url)
    get_database_settings.cache_clear()
    get_database.cache_clear()
    a = api.sign_up()
    b = api.sign_up()
    for session in (a, b, a, b):
        created = api.client.post(
            "/api/v1/projects",
            json={"name": f"p-{session.tenant_id}"},
            headers={**session.headers, "Idempotency-Key": "k"},
        )
        assert created.status_code == 201
    for session in (a, b):
        names = [
            p["name"] for p in api.client.get("/api/v1/projects", headers=session.headers).json()["items"]
        ]
        assert names == [f"p-{session.tenant_id}"]
    refreshed = api.client.post("/api/v1/sessions/refresh", json={"refresh_token": a.refresh_token})
    assert refreshed.status_code == 200
    get_database().discard()
