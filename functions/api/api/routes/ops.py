"""/api/v1/ops: reports for platform operators (owners and admins of a registered operator tenant); every
other caller, tenant owners included, gets 403 problem+json (decision 0091)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import AccessDep, TenantTx
from api.schemas.ops import OpsReport
from api.services import ops
from api.services.access import Access

router = APIRouter(prefix="/api/v1/ops", tags=["ops"])


async def platform_operator(conn: TenantTx, access: AccessDep) -> Access:
    return ops.authorize_operator(conn, access)


OperatorDep = Annotated[Access, Depends(platform_operator)]
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


@router.get("/report", response_model=OpsReport)
async def report(
    conn: TenantTx,
    _operator: OperatorDep,
    month: Annotated[
        str | None, Query(pattern=MONTH_PATTERN, description="UTC month YYYY-MM (default: this one)")
    ] = None,
) -> OpsReport:
    return OpsReport.of(ops.report(conn, month=month))
