"""Round-trip budgets of the request path, counted on the wire (directly and through PgBouncer).

GET /api/v1/projects: tenant + access, then the page (2). POST /api/v1/projects with an Idempotency-Key:
BEGIN + tenant + access + claim, then lock + insert, then audit + stored answer + COMMIT (3). Errors
inside the pipeline still map to the same problem documents and leave nothing behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from api.main import app
from saascore.db.connection import get_database
from saascore.settings import get_database_settings
from tests.integration.api.harness import ApiHarness, Session
from tests.support.wire import WireCounter, counted

GET_BUDGET = 2
POST_BUDGET = 3


@pytest.fixture
def wire(api: ApiHarness, app_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[WireCounter]:
    with counted(app_url) as (counter, url):
        monkeypatch.setenv("DATABASE_URL", url)
        get_database_settings.cache_clear()
        get_database.cache_clear()
        yield counter
        get_database().discard()
        get_database.cache_clear()


def _create(api: ApiHarness, owner: Session, name: str, key: str | None = None) -> httpx.Response:
    headers = {**owner.headers, **({"Idempotency-Key": key} if key else {})}
    response: httpx.Response = api.client.post("/api/v1/projects", json={"name": name}, headers=headers)
    return response


@pytest.mark.parametrize("plan", ["free", "pro"])  # free: the plan-limit lock rides with the insert
def test_create_with_an_idempotency_key_takes_three_round_trips(api, wire, plan):
    owner = api.sign_up()
    api.set_plan(owner.tenant_id, plan)
    _create(api, owner, "warm-up")  # connection opened outside the count
    with wire.counting():
        created = _create(api, owner, "counted", key=uuid.uuid4().hex)
    assert created.status_code == 201, created.text
    assert wire.round_trips == POST_BUDGET


def test_listing_projects_takes_two_round_trips(api, wire):
    owner = api.sign_up()
    for index in range(3):
        assert _create(api, owner, f"p{index}").status_code == 201
    with wire.counting():
        listed = api.client.get("/api/v1/projects", params={"limit": 50}, headers=owner.headers)
    assert listed.status_code == 200
    assert [item["name"] for item in listed.json()["items"]] == ["p2", "p1", "p0"]
    assert wire.round_trips == GET_BUDGET


def test_a_replay_answers_the_stored_response_and_a_mismatch_is_refused(api, wire):
    owner = api.sign_up()
    key = uuid.uuid4().hex
    first = _create(api, owner, "once", key=key)
    again = _create(api, owner, "once", key=key)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert _create(api, owner, "other", key=key).status_code == 422
    listed = api.client.get("/api/v1/projects", headers=owner.headers).json()["items"]
    assert [item["name"] for item in listed] == ["once"]


def test_a_key_claimed_by_a_forbidden_caller_rolls_back(api, wire):
    owner = api.sign_up()
    viewer = api.join(owner, "viewer")
    key = uuid.uuid4().hex
    refused = _create(api, viewer, "nope", key=key)
    assert refused.status_code == 403
    assert api.owner_sql(owner.tenant_id, "SELECT count(*) FROM idempotency_keys WHERE key = %s", (key,)) == [
        (0,)
    ]


@pytest.fixture
def audit_trigger(api: ApiHarness) -> Callable[[Session, str], None]:
    """Install a trigger on audit_logs (as the owner) so the statement nobody reads fails at COMMIT time."""

    def install(owner: Session, body: str) -> None:
        api.owner_sql(
            owner.tenant_id,
            "CREATE OR REPLACE FUNCTION public.test_audit_hook() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {body} RETURN NEW; END $$",
        )
        api.owner_sql(
            owner.tenant_id,
            "CREATE TRIGGER test_audit_hook BEFORE INSERT ON audit_logs "
            "FOR EACH ROW EXECUTE FUNCTION public.test_audit_hook()",
        )

    return install


def _state(api: ApiHarness, owner: Session, key: str) -> tuple[int, int]:
    projects = api.owner_sql(owner.tenant_id, "SELECT count(*) FROM projects WHERE name = 'doomed'")
    keys = api.owner_sql(owner.tenant_id, "SELECT count(*) FROM idempotency_keys WHERE key = %s", (key,))
    return projects[0][0], keys[0][0]


def test_a_failing_statement_late_in_the_pipeline_is_a_500_problem_and_rolls_back(api, wire, audit_trigger):
    owner = api.sign_up()
    audit_trigger(owner, "RAISE EXCEPTION 'audit store refused';")
    key = uuid.uuid4().hex
    with TestClient(app, raise_server_exceptions=False) as client:  # a 500 answers, not a traceback
        failed = client.post(
            "/api/v1/projects", json={"name": "doomed"}, headers={**owner.headers, "Idempotency-Key": key}
        )
    assert failed.status_code == 500
    assert failed.headers["content-type"] == "application/problem+json"
    assert failed.json()["type"].endswith("internal-error")
    assert "audit store" not in failed.text
    assert _state(api, owner, key) == (0, 0)
    api.owner_sql(owner.tenant_id, "DROP TRIGGER test_audit_hook ON audit_logs")
    assert _create(api, owner, "doomed", key=key).status_code == 201  # the key was never stored


def test_a_statement_timeout_in_the_pipeline_is_a_503_problem_and_rolls_back(
    api, wire, audit_trigger, monkeypatch
):
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "300")
    get_database_settings.cache_clear()
    get_database().discard()
    get_database.cache_clear()
    owner = api.sign_up()
    audit_trigger(owner, "PERFORM pg_sleep(3);")
    key = uuid.uuid4().hex
    failed = _create(api, owner, "doomed", key=key)
    assert failed.status_code == 503
    assert failed.json()["type"].endswith("database-unavailable")
    assert failed.headers["Retry-After"] == "1"
    assert _state(api, owner, key) == (0, 0)
    listed = api.client.get("/api/v1/projects", headers=owner.headers)
    assert listed.status_code == 200  # the container's connection is still usable
