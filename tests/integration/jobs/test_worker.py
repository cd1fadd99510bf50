from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

import jobs.runner
from jobs.exceptions import PermanentJobError
from saascore.db.tenancy import tenant_transaction
from saascore.jobs import deliver_pending, enqueue_job
from tests.integration.jobs.conftest import MAX_RECEIVES
from tests.support.tenants import insert_tenant


@pytest.fixture
def test_jobs(monkeypatch):
    """Job types whose behaviour the test controls, next to the real registry."""
    calls: dict[str, int] = {}
    behaviour: dict[str, Any] = {}

    def handler_for(job_type):
        def run(ctx):
            calls[job_type] = calls.get(job_type, 0) + 1
            step = behaviour[job_type]
            outcome = step(calls[job_type]) if callable(step) else step
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        return run

    real = jobs.runner.default_resolver
    monkeypatch.setattr(
        jobs.runner, "default_resolver", lambda t: handler_for(t) if t in behaviour else real(t)
    )
    return calls, behaviour


@dataclass
class World:
    poller: Any
    queues: Any
    make_tenant: Any
    owner_sql: Any
    calls: dict[str, int]
    behaviour: dict[str, Any]
    visibility_changes: list[int]


@pytest.fixture
def w(request):
    fixture = request.getfixturevalue
    calls, behaviour = fixture("test_jobs")
    return World(
        fixture("poller"),
        fixture("queues"),
        fixture("make_tenant"),
        fixture("owner_sql"),
        calls,
        behaviour,
        fixture("visibility_changes"),
    )


def enqueue(tenant, job_type, payload=None):
    with tenant_transaction(tenant) as conn:
        job_id = enqueue_job(conn, tenant_id=tenant, job_type=job_type, payload=payload or {})
    deliver_pending()
    return job_id


def job_row(owner_sql, tenant, job_id):
    return owner_sql(tenant, "SELECT status, attempts, result, error FROM jobs WHERE id = %s", (job_id,))[0]


def test_success_records_the_result_and_a_redelivered_message_is_skipped(w):
    w.behaviour["echo"] = {"ok": True}
    tenant = w.make_tenant()
    job_id = enqueue(tenant, "echo")
    body = w.queues.receive(visibility=0)[0]["Body"]

    records, failed = w.poller.poll()
    assert (len(records), failed) == (1, [])
    assert job_row(w.owner_sql, tenant, job_id) == {
        "status": "succeeded",
        "attempts": 1,
        "result": {"ok": True},
        "error": None,
    }

    w.queues.client.send_message(QueueUrl=w.queues.url, MessageBody=body)  # at-least-once: the same job again
    records, failed = w.poller.poll()
    assert (len(records), failed) == (1, [])
    assert w.calls["echo"] == 1
    assert w.queues.receive(visibility=0) == []


def test_retryable_failures_back_off_then_the_job_dies_and_the_message_reaches_the_dlq(w):
    w.behaviour["flaky"] = RuntimeError("downstream unavailable")
    tenant = w.make_tenant()
    job_id = enqueue(tenant, "flaky")

    receive_counts = []
    for _ in range(MAX_RECEIVES):
        records, failed = w.poller.poll(wait=5)
        assert failed == [records[0]["messageId"]]
        receive_counts.append(int(records[0]["attributes"]["ApproximateReceiveCount"]))
        if len(receive_counts) < MAX_RECEIVES:
            assert job_row(w.owner_sql, tenant, job_id)["status"] == "queued"

    assert receive_counts == [1, 2, 3]
    # attempt 1 → base 1 s; attempt 2 → 1..2 s (equal jitter); the dead one is released at once for the DLQ
    assert w.visibility_changes[0] == 1
    assert w.visibility_changes[1] in range(1, 3)
    assert w.visibility_changes[2] == 0
    row = job_row(w.owner_sql, tenant, job_id)
    assert (row["status"], row["attempts"]) == ("dead", MAX_RECEIVES)
    assert row["error"] == "RuntimeError: downstream unavailable"
    assert w.calls["flaky"] == MAX_RECEIVES

    assert w.poller.poll(wait=1) == ([], [])  # SQS moved it to the DLQ on this receive
    dead = w.queues.receive(url=w.queues.dlq_url, visibility=0)
    assert [json.loads(m["Body"])["job_id"] for m in dead] == [str(job_id)]


def test_a_retry_that_succeeds_ends_succeeded(w):
    w.behaviour["second_time_lucky"] = lambda n: RuntimeError("blip") if n == 1 else {"n": n}
    tenant = w.make_tenant()
    job_id = enqueue(tenant, "second_time_lucky")

    assert len(w.poller.poll()[1]) == 1
    started = time.monotonic()
    _, failed = w.poller.poll(wait=5)
    assert time.monotonic() - started >= 0.5  # the backoff kept it invisible
    assert failed == []
    assert job_row(w.owner_sql, tenant, job_id) == {
        "status": "succeeded",
        "attempts": 2,
        "result": {"n": 2},
        "error": None,
    }
    assert w.visibility_changes == [1]


@pytest.mark.parametrize(
    ("job_type", "error"),
    [("bad_input", "the payload names no recipient"), ("no_such_type", "unknown job type 'no_such_type'")],
)
def test_permanent_failure_ends_failed_without_retry(w, job_type, error):
    w.behaviour["bad_input"] = PermanentJobError("the payload names no recipient")
    tenant = w.make_tenant()
    job_id = enqueue(tenant, job_type)

    assert w.poller.poll()[1] == []
    row = job_row(w.owner_sql, tenant, job_id)
    assert (row["status"], row["attempts"], row["error"]) == ("failed", 1, error)
    assert w.queues.receive(visibility=0) == []


def test_a_job_running_elsewhere_is_deferred_until_its_lock_expires(w):
    w.behaviour["echo"] = {}
    tenant = w.make_tenant()
    job_id = enqueue(tenant, "echo")
    w.owner_sql(
        tenant,
        "UPDATE jobs SET status = 'running', attempts = 1, locked_until = now() + interval '100 seconds' WHERE id = %s",
        (job_id,),
    )

    records, failed = w.poller.poll()
    assert failed == [records[0]["messageId"]]
    assert 99 <= w.visibility_changes[0] <= 102
    assert w.calls == {}
    assert job_row(w.owner_sql, tenant, job_id)["status"] == "running"


def test_a_crashed_workers_expired_lock_is_taken_over(w):
    w.behaviour["echo"] = {"recovered": True}
    tenant = w.make_tenant()
    job_id = enqueue(tenant, "echo")
    w.owner_sql(
        tenant,
        "UPDATE jobs SET status = 'running', attempts = 1, locked_until = now() - interval '1 second' WHERE id = %s",
        (job_id,),
    )
    assert w.poller.poll()[1] == []
    row = job_row(w.owner_sql, tenant, job_id)
    assert (row["status"], row["attempts"], row["result"]) == ("succeeded", 2, {"recovered": True})


def test_an_unparseable_message_is_released_for_the_dlq(w):
    w.queues.client.send_message(QueueUrl=w.queues.url, MessageBody=json.dumps({"job_id": "nope"}))
    records, failed = w.poller.poll()
    assert failed == [records[0]["messageId"]]
    assert w.visibility_changes == [0]


def test_a_message_for_a_job_of_a_deleted_tenant_is_dropped(w):
    w.behaviour["echo"] = {}
    body = {
        "job_id": str(uuid.uuid4()),
        "type": "echo",
        "tenant_id": str(uuid.uuid4()),
        "payload": {},
        "attempt": 1,
    }
    w.queues.client.send_message(QueueUrl=w.queues.url, MessageBody=json.dumps(body))
    assert w.poller.poll()[1] == []
    assert w.calls == {}


def test_system_jobs_run_without_a_row_and_retry_through_sqs_alone(w):
    w.behaviour["global_echo"] = lambda n: RuntimeError("later") if n == 1 else {}
    body: dict[str, Any] = {
        "job_id": str(uuid.uuid4()),
        "type": "global_echo",
        "tenant_id": None,
        "payload": {},
        "attempt": 1,
    }
    w.queues.client.send_message(QueueUrl=w.queues.url, MessageBody=json.dumps(body))

    assert len(w.poller.poll()[1]) == 1
    assert w.visibility_changes == [1]
    assert w.poller.poll(wait=5)[1] == []
    assert w.calls["global_echo"] == 2


def dedicated_cell_tenant(cells: Any, app_database: Any, slug: str) -> uuid.UUID:
    """A tenant created in the dedicated cell and placed there in the directory."""
    from saascore.db.cells import place_tenant
    from tests.support.cells import DEDICATED_CELL

    tenant = insert_tenant(cells.dedicated.owner_url, slug)
    place_tenant(app_database, tenant, DEDICATED_CELL)
    return tenant


def test_a_dedicated_cell_tenants_job_is_enqueued_delivered_and_run_in_its_cell(w, cells, app_database):
    w.behaviour["echo"] = {"cell": "dedicated"}
    tenant = dedicated_cell_tenant(cells, app_database, "big-co")
    job_id = enqueue(tenant, "echo")  # the job row, its outbox row and the delivery: the dedicated cell

    records, failed = w.poller.poll()
    assert (len(records), failed) == (1, [])
    with psycopg.connect(cells.dedicated.owner_url, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT app.set_tenant(%s)", (tenant,))
        row = conn.execute("SELECT status, result FROM jobs WHERE id = %s", (job_id,)).fetchone()
    assert row == ("succeeded", {"cell": "dedicated"})
    assert w.owner_sql(tenant, "SELECT count(*) AS n FROM jobs") == [{"n": 0}]  # nothing in the pooled cell


def test_each_outcome_is_one_jobs_metric_with_the_tenant_and_type_as_properties(w, capsys):
    w.behaviour["echo"] = {"ok": True}
    tenant = w.make_tenant()
    job_id = enqueue(tenant, "echo")
    capsys.readouterr()
    w.poller.poll()
    (document,) = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')
    ]
    assert (document["outcome"], document["Jobs"]) == ("succeeded", [1.0])
    assert (document["tenant_id"], document["job_type"], document["job_id"]) == (
        str(tenant),
        "echo",
        str(job_id),
    )
    assert sorted(document["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]) == ["outcome", "service"]


def test_a_moving_tenants_job_comes_back_after_the_freeze_without_spending_an_attempt(w):
    w.behaviour["echo"] = {"ok": True}
    tenant = w.make_tenant()
    job_id = enqueue(tenant, "echo")
    w.owner_sql(tenant, "UPDATE tenants SET moving_since = now() WHERE id = %s", (tenant,))

    records, failed = w.poller.poll()
    assert failed == [records[0]["messageId"]]
    assert w.visibility_changes == [5]  # TenantMovingError.retry_after_seconds
    assert w.calls == {}
    assert job_row(w.owner_sql, tenant, job_id)["status"] == "queued"
    assert job_row(w.owner_sql, tenant, job_id)["attempts"] == 0

    w.owner_sql(tenant, "UPDATE tenants SET moving_since = NULL WHERE id = %s", (tenant,))
    _, failed = w.poller.poll(wait=8)
    assert failed == []
    assert job_row(w.owner_sql, tenant, job_id) == {
        "status": "succeeded",
        "attempts": 1,
        "result": {"ok": True},
        "error": None,
    }


def test_a_job_routed_by_a_stale_cached_cell_runs_in_the_tenants_cell_at_once(w, cells, app_database):
    """The worker's cache still names the pooled cell of a tenant that moved: the pooled cell refuses the
    write (the tenant is not there), the route is looked up again, and the job runs where the tenant is."""
    from saascore.db.cells import get_cell_router
    from tests.support.cells import DEDICATED_CELL

    w.behaviour["echo"] = {"cell": "dedicated"}
    tenant = dedicated_cell_tenant(cells, app_database, "moved-co")
    job_id = enqueue(tenant, "echo")
    get_cell_router().remember(tenant, "pooled")  # what the container knew before the move

    records, failed = w.poller.poll()
    assert (len(records), failed) == (1, [])
    assert w.visibility_changes == []
    with psycopg.connect(cells.dedicated.owner_url, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT app.set_tenant(%s)", (tenant,))
        row = conn.execute("SELECT status, attempts FROM jobs WHERE id = %s", (job_id,)).fetchone()
    assert row == ("succeeded", 1)
    assert get_cell_router().tenant_cell(tenant) == DEDICATED_CELL
