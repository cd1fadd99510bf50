"""/api/v1/reports (request a report: 202 + Location) and /api/v1/jobs/{id} (poll a background job).

The job row and its outbox row are written in the request's transaction; `JobDelivery` is declared
before the transaction dependency, so it is torn down after the commit and only then sends the message
to SQS (a failed send leaves the outbox row to the sweeper).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from api.deps import IdempotencyDep, RequirePermission, TenantTx, get_db
from api.exceptions import NotFoundError, PlanLimitError
from api.schemas.common import RequestModel
from api.services.access import Access
from saascore.db.connection import Connection, Database
from saascore.jobs import QueueSendError, enqueue_job
from saascore.jobs.outbox import deliver
from saascore.jobs.store import JobRecord, get_job
from saascore.observability import get_logger

router = APIRouter(prefix="/api/v1", tags=["jobs"])
logger = get_logger("api")

REPORTS_FEATURE = "reports"
CanCreateReports = Annotated[Access, Depends(RequirePermission("reports:create"))]
CanReadJobs = Annotated[Access, Depends(RequirePermission("jobs:read"))]


@dataclass
class JobDelivery:
    database: Database
    jobs: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)

    def add(self, tenant_id: uuid.UUID, job_id: uuid.UUID) -> None:
        self.jobs.append((tenant_id, job_id))


async def job_delivery(db: Annotated[Database, Depends(get_db)]) -> AsyncIterator[JobDelivery]:
    delivery = JobDelivery(db)
    yield delivery  # nothing is sent when the route (and so its transaction) failed
    for tenant_id, job_id in delivery.jobs:
        try:
            deliver(tenant_id=tenant_id, job_ids=[job_id], database=db)
        except QueueSendError:
            logger.warning(
                "job delivery failed; the outbox sweeper will send it", extra={"job_id": str(job_id)}
            )


Delivery = Annotated[JobDelivery, Depends(job_delivery, scope="function")]


class ReportCreate(RequestModel):
    kind: Literal["projects"] = "projects"
    status: Literal["active", "archived"] | None = None


class Job(BaseModel):
    id: uuid.UUID
    type: str
    status: Literal["queued", "running", "succeeded", "failed", "dead"]
    attempts: int
    result: dict[str, Any] | None
    error: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


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


def _location(job: BaseModel | None) -> dict[str, str]:
    assert isinstance(job, Job)
    return {"Location": f"/api/v1/jobs/{job.id}"}


def _enqueue_report(conn: Connection, access: Access, body: ReportCreate, delivery: JobDelivery) -> Job:
    if REPORTS_FEATURE not in access.entitlements.features:
        raise PlanLimitError("reports are not included in your plan", feature=REPORTS_FEATURE)
    tenant_id = access.principal.tenant_id
    payload = {} if body.status is None else {"status": body.status}
    job_id = enqueue_job(conn, tenant_id=tenant_id, job_type="project_report", payload=payload)
    delivery.add(tenant_id, job_id)
    job = get_job(conn, job_id=job_id)
    assert job is not None
    return job_view(job)


@router.post("/reports", status_code=202, response_model=Job)
async def create_report(
    delivery: Delivery, body: ReportCreate, conn: TenantTx, access: CanCreateReports, idem: IdempotencyDep
) -> Response:
    return idem.respond(
        lambda: _enqueue_report(conn, access, body, delivery), status_code=202, headers=_location
    )


@router.get("/jobs/{job_id}", response_model=Job)
async def read_job(job_id: uuid.UUID, conn: TenantTx, _: CanReadJobs) -> Job:
    job = get_job(conn, job_id=job_id)
    if job is None:
        raise NotFoundError("no such job")
    return job_view(job)
