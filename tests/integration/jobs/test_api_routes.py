from __future__ import annotations

import uuid

import pytest

from tests.integration.api.harness import api

__all__ = ["api"]


@pytest.fixture
def owner(api, queues):
    session = api.sign_up()
    api.set_plan(session.tenant_id, "starter")
    return session


def test_report_request_is_accepted_queued_and_pollable(api, queues, owner):
    response = api.client.post("/api/v1/reports", json={"status": "active"}, headers=owner.headers)

    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == f"/api/v1/jobs/{job['id']}"
    assert (job["type"], job["status"], job["result"]) == ("project_report", "queued", None)
    [body] = queues.bodies()  # sent after the request's transaction committed
    assert body == {
        "job_id": job["id"],
        "type": "project_report",
        "tenant_id": str(owner.tenant_id),
        "payload": {"status": "active"},
        "attempt": 1,
    }
    assert api.owner_sql(owner.tenant_id, "SELECT count(*) FROM job_outbox") == [(0,)]

    polled = api.client.get(response.headers["location"], headers=owner.headers)
    assert polled.status_code == 200
    assert polled.json()["status"] == "queued"


def test_finished_jobs_show_their_result_and_dead_jobs_hide_internals(api, queues, owner):
    job_id = api.client.post("/api/v1/reports", json={}, headers=owner.headers).json()["id"]
    api.owner_sql(
        owner.tenant_id,
        "UPDATE jobs SET status = 'succeeded', result = '{\"url\": \"https://example/x\"}' WHERE id = %s",
        (job_id,),
    )
    assert api.client.get(f"/api/v1/jobs/{job_id}", headers=owner.headers).json()["result"] == {
        "url": "https://example/x"
    }
    api.owner_sql(
        owner.tenant_id,
        "UPDATE jobs SET status = 'dead', attempts = 5, error = 'ClientError: bucket secret-x' WHERE id = %s",
        (job_id,),
    )
    shown = api.client.get(f"/api/v1/jobs/{job_id}", headers=owner.headers).json()
    assert (shown["error"], shown["result"]) == ("the job failed after 5 attempts", None)


def test_jobs_of_another_tenant_are_not_found(api, queues, owner):
    job_id = api.client.post("/api/v1/reports", json={}, headers=owner.headers).json()["id"]
    stranger = api.sign_up()
    response = api.client.get(f"/api/v1/jobs/{job_id}", headers=stranger.headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert api.client.get(f"/api/v1/jobs/{uuid.uuid4()}", headers=owner.headers).status_code == 404


def test_reports_need_the_feature_and_the_permission(api, queues, owner):
    viewer = api.join(owner, "viewer")
    assert api.client.post("/api/v1/reports", json={}, headers=viewer.headers).status_code == 403
    assert api.client.get("/api/v1/jobs/not-a-uuid", headers=owner.headers).status_code == 422
    bad = api.client.post("/api/v1/reports", json={"kind": "invoices"}, headers=owner.headers)
    assert bad.status_code == 422
    api.set_plan(owner.tenant_id, "free")
    refused = api.client.post("/api/v1/reports", json={}, headers=owner.headers)
    assert refused.status_code == 402
    assert refused.headers["content-type"] == "application/problem+json"
    assert queues.bodies() == []
    assert api.owner_sql(owner.tenant_id, "SELECT count(*) FROM jobs") == [(0,)]


def test_a_report_request_replayed_with_its_idempotency_key_enqueues_once(api, queues, owner):
    headers = {**owner.headers, "Idempotency-Key": "report-1"}
    first = api.client.post("/api/v1/reports", json={}, headers=headers)
    second = api.client.post("/api/v1/reports", json={}, headers=headers)
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["id"] == second.json()["id"]
    assert len(queues.bodies()) == 1


def post_usage(api, session, key, quantity=1, meter="api_calls"):
    return api.client.post(
        "/api/v1/usage",
        json={"meter": meter, "quantity": quantity},
        headers={**session.headers, "Idempotency-Key": key},
    )


def test_usage_is_idempotent_by_client_key(api, queues, owner):
    first = post_usage(api, owner, "evt-1", 5)
    again = post_usage(api, owner, "evt-1", 5)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert again.json()["usage"]["used"] == 5
    conflict = post_usage(api, owner, "evt-1", 6)
    assert conflict.status_code == 409
    missing = api.client.post("/api/v1/usage", json={"meter": "api_calls"}, headers=owner.headers)
    assert missing.status_code == 400


def test_soft_limit_warns_then_hard_limit_refuses(api, queues, owner):
    api.set_plan(owner.tenant_id, "free")  # soft 800, hard 1000 units a month
    below = post_usage(api, owner, "a", 799)
    assert below.status_code == 201
    assert "x-usage-warning" not in below.headers
    assert below.json()["usage"]["soft_limit_reached"] is False

    warned = post_usage(api, owner, "b", 1)
    assert warned.headers["x-usage-warning"] == "soft-limit-reached"
    assert warned.json()["usage"] == {
        "period_start": warned.json()["usage"]["period_start"],
        "used": 800,
        "soft_limit": 800,
        "hard_limit": 1000,
        "soft_limit_reached": True,
    }

    assert post_usage(api, owner, "c", 200).status_code == 201  # exactly at the hard limit
    refused = post_usage(api, owner, "d", 1)
    assert refused.status_code == 402
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["used"] == 1000
    overview = api.client.get("/api/v1/usage", headers=owner.headers).json()
    assert overview["current"]["used"] == 1000


def test_usage_input_is_validated(api, queues, owner):
    for body in ({"meter": "Bad Meter"}, {"meter": "m", "quantity": 0}, {"meter": "m", "quantity": 10**7}):
        response = api.client.post(
            "/api/v1/usage", json=body, headers={**owner.headers, "Idempotency-Key": "k"}
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
