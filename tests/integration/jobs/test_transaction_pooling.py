"""The jobs path through PgBouncer in transaction pooling mode (the RDS Proxy stand-in) and directly."""

from __future__ import annotations

import pytest

from jobs.scheduler import handler as scheduler
from jobs.worker import handler as worker
from saascore.billing.plans import PLANS
from saascore.db.connection import get_database
from saascore.db.tenancy import tenant_transaction
from saascore.jobs.usage import record_usage
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
    assert job["result"] == {"sessions_deleted": 0, "idempotency_keys_deleted": 0}


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
            )
    assert recorded.status.used == 800
    assert recorded.status.soft_limit_reached


def test_concurrent_usage_cannot_overshoot_the_hard_limit(app_database, pg, make_tenant):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from saascore.db.connection import Database
    from saascore.jobs.usage import UsageLimitExceededError
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
