from __future__ import annotations

import threading
import time
from typing import Any

import psycopg
import pytest
from fastapi import Header
from fastapi.testclient import TestClient

from api.deps import get_db
from api.main import app
from saascore.db.connection import Database
from tests.conftest import database_settings_for


def post(api, session, key, body):
    return api.client.post("/api/v1/projects", json=body, headers={**session.headers, "Idempotency-Key": key})


def count_projects(api, tenant_id):
    return api.owner_sql(tenant_id, "SELECT count(*) FROM projects")[0][0]


def test_replay_returns_stored_response_without_rerunning(api):
    owner = api.sign_up()
    first = post(api, owner, "k-1", {"name": "Once"})
    second = post(api, owner, "k-1", {"name": "Once"})
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert count_projects(api, owner.tenant_id) == 1


def test_same_key_different_body_is_422(api):
    owner = api.sign_up()
    post(api, owner, "k-2", {"name": "A"})
    mismatch = post(api, owner, "k-2", {"name": "B"})
    assert mismatch.status_code == 422
    assert mismatch.json()["type"].endswith("/idempotency-key-reused")
    assert count_projects(api, owner.tenant_id) == 1


def test_keys_are_per_user_and_failed_requests_store_nothing(api):
    owner = api.sign_up()
    member = api.join(owner, "member")
    assert post(api, owner, "shared", {"name": "A"}).status_code == 201
    assert post(api, member, "shared", {"name": "A"}).headers.get("idempotent-replayed") is None
    refused = post(api, owner, "fails", {"name": ""})
    assert refused.status_code == 422
    assert post(api, owner, "fails", {"name": "now valid"}).status_code == 201


def test_expired_key_runs_again(api):
    owner = api.sign_up()
    post(api, owner, "old", {"name": "A"})
    api.owner_sql(owner.tenant_id, "UPDATE idempotency_keys SET expires_at = now() - interval '1 second'")
    again = post(api, owner, "old", {"name": "A"})
    assert again.status_code == 201
    assert "idempotent-replayed" not in again.headers
    assert count_projects(api, owner.tenant_id) == 2


def test_invalid_key_is_400(api):
    owner = api.sign_up()
    assert post(api, owner, "x" * 256, {"name": "A"}).status_code == 400


@pytest.fixture
def two_connections(api, pg):
    """Requests choose their own Database (connection) by header, so two threads never share one."""
    databases = {name: Database(database_settings_for(pg.app_url)) for name in ("a", "b")}

    def override(x_test_connection: str = Header("a")) -> Database:
        return databases[x_test_connection]

    app.dependency_overrides[get_db] = override
    yield databases
    app.dependency_overrides.pop(get_db, None)
    for database in databases.values():
        database.discard()


def _wait_for_waiters(pg, count: int, timeout: float = 4.0) -> None:
    deadline = time.monotonic() + timeout
    with pg.server.admin() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = %s",
                (pg.name,),
            ).fetchone()[0]
            if waiting >= count:
                return
            time.sleep(0.02)
    raise AssertionError(f"expected {count} waiting transactions")


def test_concurrent_duplicate_waits_and_replays_never_double_writes(api, pg, two_connections):
    owner = api.sign_up()
    results: dict[str, Any] = {}

    def send(name: str) -> None:
        # A client (event loop) per thread: two Lambda containers, as concurrent requests are in AWS.
        with TestClient(app) as client:
            results[name] = client.post(
                "/api/v1/projects",
                json={"name": "Concurrent"},
                headers={**owner.headers, "Idempotency-Key": "race", "x-test-connection": name},
            )

    # Hold the per-tenant create lock so the first request stops after claiming the key.
    blocker = psycopg.connect(pg.owner_url)
    blocker.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('projects:' || %s::text, 0))", (owner.tenant_id,)
    )
    first = threading.Thread(target=send, args=("a",))
    first.start()
    _wait_for_waiters(pg, 1)
    second = threading.Thread(target=send, args=("b",))
    second.start()
    _wait_for_waiters(pg, 2)
    blocker.rollback()
    blocker.close()
    first.join(10)
    second.join(10)

    a, b = results["a"], results["b"]
    assert a.status_code == b.status_code == 201, (a.text, b.text)
    assert a.json() == b.json()
    assert b.headers["idempotent-replayed"] == "true"
    assert count_projects(api, owner.tenant_id) == 1
