from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from pydantic import ValidationError

from jobs.context import JobContext
from jobs.settings import JobsSettings, get_settings
from jobs.tasks.maintenance import expire_sessions, purge_soft_deleted, refresh_reporting_views
from saascore.db.tenancy import tenant_transaction


def context(tenant, database, job_type="purge_soft_deleted"):
    return JobContext(
        job_id=uuid.uuid4(),
        job_type=job_type,
        tenant_id=tenant,
        payload={},
        attempt=1,
        settings=get_settings(),
        database=database,
    )


@pytest.fixture
def settings_env(monkeypatch):
    def apply(**env):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield apply
    get_settings.cache_clear()


def add_projects(owner_sql, tenant, *, deleted_days_ago, count=1):
    owner_sql(
        tenant,
        "INSERT INTO projects (tenant_id, name, deleted_at) "
        "SELECT %s, 'p' || g, CASE WHEN %s::int IS NULL THEN NULL ELSE now() - make_interval(days => %s::int) END "
        "FROM generate_series(1, %s) g",
        (tenant, deleted_days_ago, deleted_days_ago, count),
    )


def project_ages(owner_sql, tenant):
    rows = owner_sql(
        tenant,
        "SELECT CASE WHEN deleted_at IS NULL THEN -1 ELSE extract(day FROM now() - deleted_at)::int END AS age "
        "FROM projects ORDER BY age",
    )
    return [row["age"] for row in rows]


def test_purge_respects_retention_and_tenant_isolation(app_database, make_tenant, owner_sql, settings_env):
    settings_env(DELETE_CHUNK_ROWS="2")  # five old rows: three chunks
    tenant, other = make_tenant(), make_tenant()
    for owner in (tenant, other):
        add_projects(owner_sql, owner, deleted_days_ago=40, count=5)
        add_projects(owner_sql, owner, deleted_days_ago=10)
        add_projects(owner_sql, owner, deleted_days_ago=None)

    result = purge_soft_deleted(context(tenant, app_database))

    assert result == {"purged": {"projects": 5}}
    assert project_ages(owner_sql, tenant) == [-1, 10]
    assert project_ages(owner_sql, other) == [-1, 10, 40, 40, 40, 40, 40]
    [audit] = owner_sql(tenant, "SELECT actor_type, action, after FROM audit_logs")
    assert (audit["actor_type"], audit["action"]) == ("system", "purge.soft_deleted")
    assert audit["after"]["purged"] == {"projects": 5}


def test_retention_is_configurable_per_table(app_database, make_tenant, owner_sql, settings_env):
    settings_env(PURGE_RETENTION_DAYS='{"projects": 5}')
    tenant = make_tenant()
    add_projects(owner_sql, tenant, deleted_days_ago=10)
    add_projects(owner_sql, tenant, deleted_days_ago=2)
    purge_soft_deleted(context(tenant, app_database))
    assert project_ages(owner_sql, tenant) == [2]


@pytest.mark.parametrize("value", ['{"users": 30}', '{"projects": 0}', '{"projects; DROP TABLE x": 1}'])
def test_retention_config_names_only_purgeable_tables_and_positive_days(value, monkeypatch):
    monkeypatch.setenv("PURGE_RETENTION_DAYS", value)
    with pytest.raises(ValidationError):
        JobsSettings()


def test_expire_sessions_drops_expired_and_long_revoked_sessions_only(app_database, make_tenant, owner_sql):
    tenant, other = make_tenant(), make_tenant()
    [user] = owner_sql(
        None,
        "INSERT INTO users (idp_issuer, idp_subject, email) VALUES ('iss', 'sub', 'u@example.com') RETURNING id",
    )
    sessions = {
        "active": "now() + interval '1 day', NULL",
        "just_expired": "now() - interval '1 day', NULL",
        "long_expired": "now() - interval '10 days', NULL",
        "long_revoked": "now() + interval '1 day', now() - interval '30 days'",
    }
    for owner in (tenant, other):
        for name, (expires, revoked) in ((n, v.split(", ")) for n, v in sessions.items()):
            owner_sql(
                owner,
                f"INSERT INTO sessions (tenant_id, user_id, expires_at, revoked_at, revoked_reason) "
                f"VALUES (%s, %s, {expires}, {revoked}, %s)",
                (owner, user["id"], name),
            )

    result = expire_sessions(context(tenant, app_database, "expire_sessions"))

    assert result["sessions_deleted"] == 2
    remaining = "SELECT revoked_reason AS name FROM sessions WHERE tenant_id = %s ORDER BY 1"
    assert [r["name"] for r in owner_sql(tenant, remaining, (tenant,))] == ["active", "just_expired"]
    assert len(owner_sql(other, remaining, (other,))) == 4


def test_expire_sessions_drops_finished_jobs_past_retention_with_their_ledger(
    app_database, make_tenant, owner_sql
):
    tenant, other = make_tenant(), make_tenant()
    jobs = {
        "old_succeeded": ("succeeded", "now() - interval '31 days'"),
        "old_dead": ("dead", "now() - interval '40 days'"),
        "recent_succeeded": ("succeeded", "now() - interval '29 days'"),
        "old_running": ("running", "NULL"),
        "old_queued": ("queued", "NULL"),
    }
    for owner in (tenant, other):
        for name, (status, finished) in jobs.items():
            [job] = owner_sql(
                owner,
                f"INSERT INTO jobs (tenant_id, type, status, dedup_key, finished_at, created_at) "
                f"VALUES (%s, 'send_email', %s, %s, {finished}, now() - interval '60 days') RETURNING id",
                (owner, status, name),
            )
            owner_sql(
                owner,
                "INSERT INTO email_deliveries (tenant_id, job_id, recipient, status) VALUES (%s, %s, %s, 'sent')",
                (owner, job["id"], f"{name}@example.com"),
            )

    result = expire_sessions(context(tenant, app_database, "expire_sessions"))

    assert result["jobs_deleted"] == 2
    kept = "SELECT dedup_key AS name FROM jobs WHERE tenant_id = %s ORDER BY 1"
    assert [r["name"] for r in owner_sql(tenant, kept, (tenant,))] == [
        "old_queued",
        "old_running",
        "recent_succeeded",
    ]
    ledger = "SELECT recipient FROM email_deliveries WHERE tenant_id = %s ORDER BY 1"
    assert [r["recipient"] for r in owner_sql(tenant, ledger, (tenant,))] == [
        "old_queued@example.com",
        "old_running@example.com",
        "recent_succeeded@example.com",
    ]
    assert len(owner_sql(other, kept, (other,))) == 5


def test_refresh_reporting_views_updates_the_per_tenant_monthly_totals(app_database, make_tenant, owner_sql):
    tenant, other = make_tenant(), make_tenant()
    for owner, quantity in ((tenant, 3), (other, 50)):
        owner_sql(
            owner,
            "INSERT INTO usage_events (tenant_id, meter, quantity, idempotency_key) "
            "SELECT %s, 'api_calls', %s, 'k' || g FROM generate_series(1, 2) g",
            (owner, quantity),
        )

    def monthly(owner):
        with tenant_transaction(owner) as conn:
            return conn.execute("SELECT meter, quantity, events FROM app.tenant_usage_monthly()").fetchall()

    assert monthly(tenant) == []  # not refreshed yet
    refresh_reporting_views(context(None, app_database, "refresh_reporting_views"))
    assert monthly(tenant) == [{"meter": "api_calls", "quantity": 6, "events": 2}]
    assert monthly(other) == [{"meter": "api_calls", "quantity": 100, "events": 2}]
    with tenant_transaction(tenant) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM app.usage_monthly")


def test_refresh_reporting_views_refreshes_every_cell(app_database, cells):
    import uuid

    from saascore.db.cells import place_tenant
    from tests.support.cells import DEDICATED_CELL

    tenant = uuid.uuid4()
    with psycopg.connect(cells.dedicated.owner_url, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT app.set_tenant(%s)", (tenant,))
        conn.execute("INSERT INTO tenants (id, name, slug) VALUES (%s, 'Big', 'big-co')", (tenant,))
        conn.execute(
            "INSERT INTO usage_events (tenant_id, meter, quantity, idempotency_key) VALUES (%s, 'api_calls', 7, 'k')",
            (tenant,),
        )
    place_tenant(app_database, tenant, DEDICATED_CELL)
    refresh_reporting_views(context(None, app_database, "refresh_reporting_views"))
    with tenant_transaction(tenant) as routed:  # routed to the dedicated cell
        rows = routed.execute("SELECT meter, quantity, events FROM app.tenant_usage_monthly()").fetchall()
    assert rows == [{"meter": "api_calls", "quantity": 7, "events": 1}]


def test_refresh_reporting_views_refreshes_the_business_views_and_reports_yesterday(
    app_database, make_tenant, owner_sql, capsys
):
    tenant = make_tenant()
    owner_sql(tenant, "UPDATE tenants SET created_at = now() - interval '1 day' WHERE id = %s", (tenant,))
    result = refresh_reporting_views(context(None, app_database, "refresh_reporting_views"))
    assert "app.business_daily" in result["refreshed"]
    assert (result["signups"], result["trial_conversions"]) == (1, 0)
    (document,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"Signups"' in line]
    assert (document["Signups"], document["TrialConversions"]) == (
        [float(result["signups"])],
        [float(result["trial_conversions"])],
    )
    with tenant_transaction(tenant) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT * FROM app.refresh_business_views()")
