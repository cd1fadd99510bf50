"""/api/v1/usage: record metered usage idempotently under the plan's limits; read monthly totals.

The client's idempotency key (``Idempotency-Key`` header or ``idempotency_key`` field) is the event's
natural key, so a retried POST returns the recorded event (200) instead of counting twice. Past the
soft limit the response carries ``X-Usage-Warning: soft-limit-reached`` and ``soft_limit_reached``;
past the hard limit the event is refused with 402 problem+json.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response

from api.deps import RequirePermission, TenantTx
from api.schemas.usage import UsageCreate, UsageEvent, UsageOverview
from api.services import usage
from api.services.access import Access

router = APIRouter(prefix="/api/v1/usage", tags=["usage"])

CanWrite = Annotated[Access, Depends(RequirePermission("usage:write"))]
CanRead = Annotated[Access, Depends(RequirePermission("usage:read"))]
SOFT_LIMIT_HEADER = "X-Usage-Warning"


@router.post(
    "",
    status_code=201,
    response_model=UsageEvent,
    responses={
        200: {"model": UsageEvent, "description": "A retry: the event already recorded under this key"}
    },
)
async def record(
    body: UsageCreate,
    conn: TenantTx,
    access: CanWrite,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> UsageEvent:
    recorded = usage.record_usage(
        conn,
        tenant_id=access.principal.tenant_id,
        user_id=access.principal.user_id,
        meter=body.meter,
        quantity=body.quantity,
        idempotency_key=usage.idempotency_key(header=idempotency_key, field=body.idempotency_key),
        entitlements=access.entitlements,
        plan=access.plan,
    )
    if recorded.replayed:
        response.status_code = 200
    if recorded.status.soft_limit_reached:
        response.headers[SOFT_LIMIT_HEADER] = "soft-limit-reached"
    return recorded.view()


@router.get("", response_model=UsageOverview)
async def read(conn: TenantTx, access: CanRead) -> UsageOverview:
    return usage.overview(conn, tenant_id=access.principal.tenant_id, entitlements=access.entitlements)
