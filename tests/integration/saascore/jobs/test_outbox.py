from __future__ import annotations

from datetime import timedelta

import pytest

from saascore.db.tenancy import tenant_transaction
from saascore.jobs import InvalidJobError, OutboxError, deliver_pending, enqueue_job, sweep_outbox
from saascore.jobs.model import MAX_PAYLOAD_BYTES
from saascore.jobs.outbox import pending_jobs
from saascore.jobs.settings import get_jobs_queue_settings


def test_committed_enqueue_is_delivered_once_with_the_contract_body(
    app_database, queues, make_tenant, owner_sql
):
    tenant = make_tenant()
    with tenant_transaction(tenant) as conn:
        job_id = enqueue_job(conn, tenant_id=tenant, job_type="project_report", payload={"format": "csv"})

    assert deliver_pending() == 1

    assert queues.bodies() == [
        {
            "job_id": str(job_id),
            "type": "project_report",
            "tenant_id": str(tenant),
            "payload": {"format": "csv"},
            "attempt": 1,
        }
    ]
    assert owner_sql(tenant, "SELECT count(*) AS n FROM job_outbox") == [{"n": 0}]
    assert owner_sql(tenant, "SELECT status FROM jobs WHERE id = %s", (job_id,)) == [{"status": "queued"}]
    assert deliver_pending() == 0


def test_rolled_back_enqueue_leaves_no_row_and_sends_nothing(app_database, queues, make_tenant, owner_sql):
    tenant = make_tenant()

    def failing_request() -> None:
        with tenant_transaction(tenant) as conn:
            enqueue_job(conn, tenant_id=tenant, job_type="send_email", payload={})
            raise RuntimeError("the request failed after enqueueing")

    with pytest.raises(RuntimeError):
        failing_request()

    assert deliver_pending() == 0
    assert queues.bodies() == []
    assert owner_sql(tenant, "SELECT count(*) AS n FROM jobs") == [{"n": 0}]


def test_delivery_inside_the_enqueuing_transaction_is_refused(app_database, queues, make_tenant):
    tenant = make_tenant()
    with tenant_transaction(tenant) as conn:
        enqueue_job(conn, tenant_id=tenant, job_type="send_email", payload={})
        with pytest.raises(OutboxError):
            deliver_pending()
    assert deliver_pending() == 1


def test_failed_send_keeps_the_outbox_row_for_the_sweeper(
    app_database, queues, make_tenant, owner_sql, monkeypatch
):
    tenant = make_tenant()
    monkeypatch.setenv("JOBS_QUEUE_URL", queues.url + "-missing")
    get_jobs_queue_settings.cache_clear()
    with tenant_transaction(tenant) as conn:
        job_id = enqueue_job(conn, tenant_id=tenant, job_type="send_email", payload={"n": 1})

    assert deliver_pending() == 0
    assert owner_sql(tenant, "SELECT job_id FROM job_outbox") == [{"job_id": job_id}]

    monkeypatch.setenv("JOBS_QUEUE_URL", queues.url)
    get_jobs_queue_settings.cache_clear()
    assert sweep_outbox(min_age=timedelta(hours=1)) == 0  # still inside the request path's grace window
    assert sweep_outbox(min_age=timedelta(0)) == 1
    assert [body["job_id"] for body in queues.bodies()] == [str(job_id)]
    assert owner_sql(tenant, "SELECT count(*) AS n FROM job_outbox") == [{"n": 0}]


def test_sweeper_delivers_for_every_tenant(app_database, queues, make_tenant):
    tenants = [make_tenant() for _ in range(3)]
    for tenant in tenants:
        with tenant_transaction(tenant) as conn:
            enqueue_job(conn, tenant_id=tenant, job_type="expire_sessions", payload={})
    pending_jobs()  # the request path "forgot" to deliver; the sweeper must not need the context
    assert sweep_outbox(min_age=timedelta(0)) == 3
    assert sorted(body["tenant_id"] for body in queues.bodies()) == sorted(str(t) for t in tenants)


def test_the_sweeper_leaves_a_moving_tenants_rows_and_delivers_the_others(
    app_database, queues, make_tenant, owner_sql
):
    moving, other = make_tenant(), make_tenant()
    for tenant in (moving, other):
        with tenant_transaction(tenant) as conn:
            enqueue_job(conn, tenant_id=tenant, job_type="expire_sessions", payload={})
    pending_jobs()
    owner_sql(moving, "UPDATE tenants SET moving_since = now() WHERE id = %s", (moving,))
    assert sweep_outbox(min_age=timedelta(0)) == 1
    assert [body["tenant_id"] for body in queues.bodies()] == [str(other)]
    assert owner_sql(moving, "SELECT count(*) AS n FROM job_outbox") == [{"n": 1}]  # kept: it moves too


def test_dedup_key_returns_the_existing_job_and_sends_once(app_database, queues, make_tenant):
    tenant = make_tenant()
    ids = []
    for _ in range(2):
        with tenant_transaction(tenant) as conn:
            ids.append(
                enqueue_job(
                    conn, tenant_id=tenant, job_type="report_usage", payload={}, dedup_key="2026-11-23T10"
                )
            )
        deliver_pending()
    assert ids[0] == ids[1]
    assert len(queues.bodies()) == 1


def test_jobs_are_invisible_to_other_tenants(app_database, queues, make_tenant):
    tenant, other = make_tenant(), make_tenant()
    with tenant_transaction(tenant) as conn:
        job_id = enqueue_job(conn, tenant_id=tenant, job_type="send_email", payload={})
    with tenant_transaction(other) as conn:
        assert conn.execute("SELECT count(*) AS n FROM jobs WHERE id = %s", (job_id,)).fetchone() == {"n": 0}


@pytest.mark.parametrize(
    ("job_type", "payload"),
    [
        ("Project-Report", {}),
        ("x" * 65, {}),
        ("send_email", {"blob": "a" * MAX_PAYLOAD_BYTES}),
    ],
)
def test_bad_type_or_oversized_payload_is_refused(app_database, queues, make_tenant, job_type, payload):
    tenant = make_tenant()
    with pytest.raises(InvalidJobError), tenant_transaction(tenant) as conn:
        enqueue_job(conn, tenant_id=tenant, job_type=job_type, payload=payload)
