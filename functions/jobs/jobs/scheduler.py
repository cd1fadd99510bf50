"""EventBridge Scheduler entry: enqueue the named job (per tenant where it is per tenant), never run it.

The schedule's input is ``{"job_type": "<type>", "scheduled_time": "<aws.scheduler.scheduled-time>"}``.
The scheduled time becomes the jobs' dedup key, so a retried invocation of the same tick enqueues nothing
twice. The one exception is the outbox sweep, which is delivery rather than work and runs inline.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from jobs.registry import SWEEP_OUTBOX, spec_for
from jobs.repositories import tenants as repo
from saascore.db.cells import every_cell_database
from saascore.db.connection import Database
from saascore.db.tenancy import tenant_transaction, tenantless_transaction
from saascore.jobs import deliver_pending, enqueue_job, send_system_job, sweep_outbox
from saascore.jobs.model import JOB_TYPE_PATTERN
from saascore.observability import get_logger

logger = get_logger("jobs-scheduler")


class ScheduledEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    job_type: str = Field(pattern=JOB_TYPE_PATTERN)
    scheduled_time: datetime | None = None
    payload: dict[str, Any] = Field(default_factory=dict)


def schedule(event: ScheduledEvent, *, database: Database | None = None) -> dict[str, Any]:
    """Enqueue one tick of a schedule; returns what was done (logged by the handler)."""
    if event.job_type == SWEEP_OUTBOX:
        return {"job_type": event.job_type, "delivered": sweep_outbox(database=database)}
    spec = spec_for(event.job_type)
    if spec is None:
        raise ValueError(f"no job type {event.job_type!r}")
    if spec.scope == "system":
        job_id = send_system_job(spec.type, event.payload)
        return {"job_type": spec.type, "enqueued": 1, "job_id": str(job_id)}
    tick = (event.scheduled_time or datetime.now(UTC)).astimezone(UTC).replace(second=0, microsecond=0)
    dedup_key = f"schedule:{tick.isoformat()}"
    enqueued = 0
    # Without ``database``, every cell's tenants (each cell lists the tenants it holds).
    for db in [database] if database is not None else every_cell_database():
        with tenantless_transaction(database=db) as conn:
            tenants = repo.active_tenant_ids(conn)
        for tenant_id in tenants:
            with tenant_transaction(tenant_id, database=db) as conn:
                enqueue_job(
                    conn, tenant_id=tenant_id, job_type=spec.type, payload=event.payload, dedup_key=dedup_key
                )
            deliver_pending(database=db)
        enqueued += len(tenants)
    return {"job_type": spec.type, "enqueued": enqueued, "dedup_key": dedup_key}


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    outcome = schedule(ScheduledEvent.model_validate(event))
    logger.info("schedule tick handled", extra=outcome)
    return outcome
