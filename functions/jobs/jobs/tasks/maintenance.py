"""Housekeeping jobs: purge old soft deletes, drop expired sessions and old finished jobs, refresh the
reporting view.

Deletes run in chunks of DELETE_CHUNK_ROWS, each chunk its own short tenant transaction, so no
statement holds many locks or runs into the statement timeout; RLS confines every chunk to the job's
tenant even if a query were wrong.
"""

from __future__ import annotations

from typing import Any

from jobs.context import JobContext
from jobs.repositories import maintenance as repo
from jobs.settings import PURGEABLE_TABLES
from saascore.db.cells import every_cell_database
from saascore.db.tenancy import tenant_transaction, tenantless_transaction
from saascore.metrics import record_business_day


def _delete_in_chunks(ctx: JobContext, *, table: str, condition: str, params: tuple[Any, ...]) -> int:
    assert table in PURGEABLE_TABLES | {"sessions", "idempotency_keys", "jobs"}
    key = "ctid" if table == "idempotency_keys" else "id"  # idempotency_keys has a composite primary key
    total = 0
    while True:
        with tenant_transaction(ctx.tenant, database=ctx.database) as conn:
            deleted = repo.delete_chunk(
                conn,
                table=table,
                key=key,
                tenant_id=ctx.tenant,
                condition=condition,
                params=params,
                limit=ctx.settings.delete_chunk_rows,
            )
        total += deleted
        if deleted < ctx.settings.delete_chunk_rows:
            return total


def purge_soft_deleted(ctx: JobContext) -> dict[str, Any]:
    purged: dict[str, int] = {}
    for table, days in sorted(ctx.settings.purge_retention_days.items()):
        purged[table] = _delete_in_chunks(
            ctx, table=table, condition="deleted_at < now() - make_interval(days => %s)", params=(days,)
        )
    if any(purged.values()):
        with tenant_transaction(ctx.tenant, database=ctx.database) as conn:
            repo.record_purge(
                conn,
                tenant_id=ctx.tenant,
                details={"purged": purged, "retention_days": ctx.settings.purge_retention_days},
                request_id=f"job:{ctx.job_id}",
            )
    return {"purged": purged}


def expire_sessions(ctx: JobContext) -> dict[str, Any]:
    days = ctx.settings.session_retention_days
    sessions = _delete_in_chunks(
        ctx,
        table="sessions",
        condition="(expires_at < now() - make_interval(days => %s) OR revoked_at < now() - make_interval(days => %s))",
        params=(days, days),
    )
    keys = _delete_in_chunks(ctx, table="idempotency_keys", condition="expires_at < now()", params=())
    # Finished jobs only (their delivery ledger cascades); queued and running ones are never touched.
    jobs = _delete_in_chunks(
        ctx,
        table="jobs",
        condition="status IN ('succeeded', 'failed', 'dead') AND finished_at < now() - make_interval(days => %s)",
        params=(ctx.settings.job_retention_days,),
    )
    return {"sessions_deleted": sessions, "idempotency_keys_deleted": keys, "jobs_deleted": jobs}


def refresh_reporting_views(ctx: JobContext) -> dict[str, Any]:
    # Each cell has its own views over its own tenants (a system job's database is the pooled cell's);
    # the day's business figures are the sum over the cells.
    days = []
    for db in every_cell_database(default=ctx.database):
        with tenantless_transaction(database=db) as conn:
            repo.refresh_usage_views(conn)
            days.append(repo.refresh_business_views(conn))
    signups = sum(day["signups"] for day in days)
    trial_conversions = sum(day["first_payments"] for day in days)
    record_business_day(signups=signups, trial_conversions=trial_conversions)
    return {
        "refreshed": ["app.usage_monthly", "app.mrr_monthly", "app.business_daily", "app.active_users_daily"],
        "day": days[0]["day"].isoformat(),
        "signups": signups,
        "trial_conversions": trial_conversions,
    }
