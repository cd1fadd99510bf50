"""Reports as background jobs, and the job a client polls.

The job row and its outbox row are written in the request's transaction; ``JobDelivery`` collects the
jobs and sends them to SQS only after the commit (a failed send leaves the outbox row to the sweeper).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from api.exceptions import NotFoundError, PlanLimitError
from api.schemas.jobs import Job, ReportCreate
from api.services.access import Access
from saascore.db.connection import Connection, Database
from saascore.jobs import QueueSendError, enqueue_job
from saascore.jobs.outbox import deliver
from saascore.jobs.repositories import jobs as repo
from saascore.jobs.repositories.jobs import JobRecord
from saascore.observability import get_logger

logger = get_logger("api")

REPORTS_FEATURE = "reports"


@dataclass
class JobDelivery:
    database: Database
    jobs: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)

    def add(self, tenant_id: uuid.UUID, job_id: uuid.UUID) -> None:
        self.jobs.append((tenant_id, job_id))

    def send(self) -> None:
        """Call after the commit: a job whose transaction rolled back must never be sent."""
        for tenant_id, job_id in self.jobs:
            try:
                deliver(tenant_id=tenant_id, job_ids=[job_id], database=self.database)
            except QueueSendError:
                logger.warning(
                    "job delivery failed; the outbox sweeper will send it", extra={"job_id": str(job_id)}
                )


def job_view(job: JobRecord) -> Job:
    # Only our own permanent-failure messages are shown; a dead job's last exception may name internals.
    if job.status == "failed":
        error = job.error
    elif job.status == "dead":
        error = f"the job failed after {job.attempts} attempts"
    else:
        error = None
    return Job(
        id=job.id,
        type=job.type,
        status=job.status,
        attempts=job.attempts,
        result=job.result if job.status == "succeeded" else None,
        error=error,
        created_at=job.created_at,
        updated_at=job.updated_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
    )


def enqueue_report(conn: Connection, access: Access, body: ReportCreate, delivery: JobDelivery) -> Job:
    if REPORTS_FEATURE not in access.entitlements.features:
        raise PlanLimitError("reports are not included in your plan", feature=REPORTS_FEATURE)
    tenant_id = access.principal.tenant_id
    payload = {} if body.status is None else {"status": body.status}
    job_id = enqueue_job(conn, tenant_id=tenant_id, job_type="project_report", payload=payload)
    delivery.add(tenant_id, job_id)
    return get(conn, job_id)


def get(conn: Connection, job_id: uuid.UUID) -> Job:
    job = repo.get_job(conn, job_id=job_id)
    if job is None:
        raise NotFoundError("no such job")
    return job_view(job)
