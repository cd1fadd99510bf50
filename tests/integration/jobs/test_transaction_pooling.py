"""The jobs path through PgBouncer in transaction pooling mode (the RDS Proxy stand-in) and directly."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from api.services.usage import record_usage
from jobs.context import JobContext
from jobs.scheduler import handler as scheduler
from jobs.ses_events import handler as ses_events
from jobs.settings import get_settings
from jobs.tasks.email import send_email
from jobs.worker import handler as worker
from saascore.billing.plans import PLANS
from saascore.db.connection import get_database
from saascore.db.tenancy import tenant_transaction
from saascore.settings import get_database_settings
from tests.integration.jobs.conftest import LambdaPoller


@pytest.fixture
def pooled_database(app_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", app_url)
    get_database_settings.cache_clear()
    get_database.cache_clear()
    database = get_database()
    yield database
    database.discard()
    get_database_settings.cache_clear()
    get_database.cache_clear()


@pytest.mark.usefixtures("pooled_database", "jobs_env")
def test_schedule_enqueue_deliver_and_work_a_job(queues, make_tenant, owner_sql, lambda_context):
    tenant = make_tenant()
    assert scheduler({"job_type": "expire_sessions"}, lambda_context)["enqueued"] == 1

    records, failed = LambdaPoller(queues, worker, lambda_context).poll()

    assert (len(records), failed) == (1, [])
    [job] = owner_sql(tenant, "SELECT status, attempts, result FROM jobs")
    assert (job["status"], job["attempts"]) == ("succeeded", 1)
    assert job["result"] == {"sessions_deleted": 0, "idempotency_keys_deleted": 0, "jobs_deleted": 0}


@pytest.mark.usefixtures("pooled_database", "ses")
def test_send_email_and_its_ses_bounce_feedback(make_tenant, owner_sql, lambda_context):
    tenant = make_tenant()
    [job] = owner_sql(
        tenant, "INSERT INTO jobs (tenant_id, type) VALUES (%s, 'send_email') RETURNING id", (tenant,)
    )
    payload = {"template": "welcome", "to": ["a@example.com", "b@example.com"]}
    context = JobContext(job["id"], "send_email", tenant, payload, 1, get_settings(), get_database())
    assert send_email(context)["sent"] == 2
    [row] = owner_sql(tenant, "SELECT ses_message_id FROM email_deliveries WHERE recipient = 'a@example.com'")

    events = Path(__file__).resolve().parents[2] / "events"
    bounce = json.loads((events / "ses" / "event-bounce.json").read_text())
    bounce["bounce"]["bouncedRecipients"][0]["emailAddress"] = "a@example.com"
    bounce["mail"]["messageId"] = row["ses_message_id"]
    bounce["mail"]["tags"].update({"tenant_id": [str(tenant)], "job_id": [str(job["id"])]})
    envelope = {
        **json.loads((events / "ses" / "sns-envelope.json").read_text()),
        "Message": json.dumps(bounce),
    }
    record = json.loads((events / "local" / "sqs.json").read_text())["Records"][1]
    record.update({"messageId": str(uuid.uuid4()), "body": json.dumps(envelope)})

    assert ses_events({"Records": [record]}, lambda_context) == {"batchItemFailures": []}
    assert owner_sql(None, "SELECT email, reason FROM email_suppressions") == [
        {"email": "a@example.com", "reason": "bounce"}
    ]
    assert owner_sql(tenant, "SELECT recipient, feedback FROM email_deliveries ORDER BY 1") == [
        {"recipient": "a@example.com", "feedback": "bounce"},
        {"recipient": "b@example.com", "feedback": None},
    ]


@pytest.mark.usefixtures("pooled_database")
def test_usage_limit_lock_is_transaction_scoped(make_tenant):
    tenant = make_tenant()
    free = PLANS["free"].entitlements
    for key in ("a", "b"):
        with tenant_transaction(tenant) as conn:
            recorded = record_usage(
                conn,
                tenant_id=tenant,
                user_id=None,
                meter="api_calls",
                quantity=400,
                idempotency_key=key,
                entitlements=free,
                plan="free",
            )
    assert recorded.status.used == 800
    assert recorded.status.soft_limit_reached


def test_concurrent_usage_cannot_overshoot_the_hard_limit(app_database, pg, make_tenant):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from api.exceptions import UsageLimitExceededError
    from saascore.db.connection import Database
    from tests.conftest import database_settings_for

    tenant = make_tenant()
    free = PLANS["free"].entitlements  # hard limit 1000
    barrier = Barrier(4)

    def attempt(key: str) -> bool:
        database = Database(database_settings_for(pg.app_url))
        try:
            barrier.wait()
            with tenant_transaction(tenant, database=database) as conn:
                record_usage(
                    conn,
                    tenant_id=tenant,
                    user_id=None,
                    meter="m",
                    quantity=400,
                    idempotency_key=key,
                    entitlements=free,
                    plan="free",
                )
            return True
        except UsageLimitExceededError:
            return False
        finally:
            database.discard()

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(attempt, ["k1", "k2", "k3", "k4"]))

    assert sorted(outcomes) == [False, False, True, True]
    with tenant_transaction(tenant) as conn:
        assert conn.execute("SELECT sum(quantity) AS used FROM usage_events").fetchone() == {"used": 800}
