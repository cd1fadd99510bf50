from __future__ import annotations

import pytest
from pydantic import ValidationError

from jobs.registry import JOB_TYPES, SCHEDULES
from jobs.scheduler import handler
from saascore.db.tenancy import tenant_transaction
from saascore.jobs import enqueue_job

TICK = {"scheduled_time": "2026-11-23T03:15:00Z"}


def test_per_tenant_job_is_enqueued_once_per_active_tenant_and_tick(
    app_database, queues, make_tenant, owner_sql, lambda_context
):
    active = {make_tenant(), make_tenant()}
    make_tenant(deleted_at="2026-01-01T00:00:00Z")

    outcome = handler({"job_type": "expire_sessions", **TICK}, lambda_context)
    again = handler({"job_type": "expire_sessions", **TICK}, lambda_context)  # the scheduler retried the tick

    assert (outcome["enqueued"], again["enqueued"]) == (2, 2)
    bodies = queues.bodies()
    assert sorted(b["tenant_id"] for b in bodies) == sorted(str(t) for t in active)
    assert {b["type"] for b in bodies} == {"expire_sessions"}
    for tenant in active:
        rows = owner_sql(tenant, "SELECT dedup_key, status FROM jobs")
        assert rows == [{"dedup_key": "schedule:2026-11-23T03:15:00+00:00", "status": "queued"}]


def test_system_job_goes_to_the_queue_without_a_tenant(app_database, queues, lambda_context):
    outcome = handler({"job_type": "refresh_reporting_views"}, lambda_context)
    [body] = queues.bodies()
    assert (body["type"], body["tenant_id"], body["job_id"]) == (
        "refresh_reporting_views",
        None,
        outcome["job_id"],
    )


def test_outbox_sweep_runs_inline(app_database, queues, make_tenant, lambda_context, monkeypatch):
    tenant = make_tenant()
    with tenant_transaction(tenant) as conn:
        enqueue_job(conn, tenant_id=tenant, job_type="send_email", payload={})
    monkeypatch.setenv("JOBS_OUTBOX_GRACE_SECONDS", "0")
    from saascore.jobs.settings import get_jobs_queue_settings

    get_jobs_queue_settings.cache_clear()
    assert handler({"job_type": "sweep_job_outbox"}, lambda_context)["delivered"] == 1
    assert len(queues.bodies()) == 1


@pytest.mark.parametrize("event", [{"job_type": "Not A Type"}, {}, {"job_type": "no_such_job"}])
def test_bad_schedule_input_fails_loudly(app_database, queues, lambda_context, event):
    with pytest.raises((ValidationError, ValueError)):
        handler(event, lambda_context)
    assert queues.bodies() == []


def test_every_schedule_names_a_known_job_type():
    assert {s.job_type for s in SCHEDULES} - set(JOB_TYPES) == {"sweep_job_outbox"}
    # the sweep runs every minute, so an undelivered job waits at most the 30 s grace plus a minute
    assert {s.expression for s in SCHEDULES if s.job_type == "sweep_job_outbox"} == {"rate(1 minute)"}


@pytest.mark.usefixtures("app_database")
def test_the_fan_out_and_the_outbox_sweep_walk_every_cell(
    queues, make_tenant, cells, lambda_context, monkeypatch
):
    import uuid

    import psycopg

    from saascore.db.cells import place_tenant
    from saascore.db.connection import get_database
    from saascore.jobs.settings import get_jobs_queue_settings
    from tests.support.cells import DEDICATED_CELL

    pooled = make_tenant()
    dedicated = uuid.uuid4()
    with psycopg.connect(cells.dedicated.owner_url, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT app.set_tenant(%s)", (dedicated,))
        conn.execute("INSERT INTO tenants (id, name, slug) VALUES (%s, 'Big', 'big-co')", (dedicated,))
    place_tenant(get_database(), dedicated, DEDICATED_CELL)

    outcome = handler({"job_type": "expire_sessions", **TICK}, lambda_context)
    assert outcome["enqueued"] == 2
    assert sorted(b["tenant_id"] for b in queues.bodies()) == sorted([str(pooled), str(dedicated)])

    with tenant_transaction(dedicated) as routed:  # routed to the dedicated cell; left for the sweeper
        enqueue_job(routed, tenant_id=dedicated, job_type="send_email", payload={})
    monkeypatch.setenv("JOBS_OUTBOX_GRACE_SECONDS", "0")
    get_jobs_queue_settings.cache_clear()
    assert handler({"job_type": "sweep_job_outbox"}, lambda_context)["delivered"] == 1
    assert [b["type"] for b in queues.bodies()].count("send_email") == 1
