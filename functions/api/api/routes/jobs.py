"""/api/v1/reports (request a report: 202 + Location) and /api/v1/jobs/{id} (poll a background job).

`JobDelivery` is declared before the transaction dependency, so it is torn down after the commit and
only then sends the message to SQS.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel

from api.deps import IdempotencyDep, RequirePermission, TenantDb, TenantTx
from api.schemas.jobs import Job, ReportCreate
from api.services import jobs
from api.services.access import Access

router = APIRouter(prefix="/api/v1", tags=["jobs"])

CanCreateReports = Annotated[Access, Depends(RequirePermission("reports:create"))]
CanReadJobs = Annotated[Access, Depends(RequirePermission("jobs:read"))]


async def job_delivery(db: TenantDb) -> AsyncIterator[jobs.JobDelivery]:
    delivery = jobs.JobDelivery(db)
    yield delivery  # nothing is sent when the route (and so its transaction) failed
    delivery.send()


Delivery = Annotated[jobs.JobDelivery, Depends(job_delivery, scope="function")]


def _location(job: BaseModel | None) -> dict[str, str]:
    assert isinstance(job, Job)
    return {"Location": f"/api/v1/jobs/{job.id}"}


@router.post("/reports", status_code=202, response_model=Job)
async def create_report(
    delivery: Delivery, body: ReportCreate, conn: TenantTx, access: CanCreateReports, idem: IdempotencyDep
) -> Response:
    return idem.respond(
        lambda: jobs.enqueue_report(conn, access, body, delivery), status_code=202, headers=_location
    )


@router.get("/jobs/{job_id}", response_model=Job)
async def read_job(job_id: uuid.UUID, conn: TenantTx, _: CanReadJobs) -> Job:
    return jobs.get(conn, job_id)
