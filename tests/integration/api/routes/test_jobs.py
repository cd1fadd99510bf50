"""/api/v1/reports and /api/v1/jobs through the real API app, with the jobs queue in moto."""

from __future__ import annotations

import uuid


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
