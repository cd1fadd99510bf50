"""/api/v1/usage: record metered usage idempotently under the plan's limits; read monthly totals.

The client's idempotency key (``Idempotency-Key`` header or ``idempotency_key`` field) is the event's
natural key, so a retried POST returns the recorded event (200) instead of counting twice. Past the
soft limit the response carries ``X-Usage-Warning: soft-limit-reached`` and ``soft_limit_reached``;
past the hard limit the event is refused with 402 problem+json.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from pydantic import BaseModel, Field

from api.deps import RequirePermission, TenantTx
from api.exceptions import ConflictError, MalformedRequestError, PlanLimitError
from api.schemas.common import RequestModel
from api.services.access import Access
from saascore.jobs.usage import (
    UsageKeyConflictError,
    UsageLimitExceededError,
    UsageStatus,
    monthly_usage,
    record_usage,
    usage_status,
)

router = APIRouter(prefix="/api/v1/usage", tags=["usage"])

CanWrite = Annotated[Access, Depends(RequirePermission("usage:write"))]
CanRead = Annotated[Access, Depends(RequirePermission("usage:read"))]
SOFT_LIMIT_HEADER = "X-Usage-Warning"
MAX_QUANTITY = 1_000_000


class UsageCreate(RequestModel):
    meter: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=255)


class UsageSummary(BaseModel):
    period_start: datetime
    used: int
    soft_limit: int | None
    hard_limit: int | None
    soft_limit_reached: bool


class UsageEvent(BaseModel):
    id: uuid.UUID
    meter: str
    quantity: int
    idempotency_key: str
    occurred_at: datetime
    usage: UsageSummary


class MonthlyUsage(BaseModel):
    meter: str
    month: datetime
    quantity: int
    events: int


class UsageOverview(BaseModel):
    current: UsageSummary
    months: list[MonthlyUsage]


def summary(status: UsageStatus) -> UsageSummary:
    return UsageSummary(
        period_start=status.period_start,
        used=status.used,
        soft_limit=status.soft_limit,
        hard_limit=status.hard_limit,
        soft_limit_reached=status.soft_limit_reached,
    )


@router.post("", status_code=201, response_model=UsageEvent)
async def record(
    body: UsageCreate,
    conn: TenantTx,
    access: CanWrite,
    response: Response,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> UsageEvent:
    key = idempotency_key or body.idempotency_key
    if not key:
        raise MalformedRequestError("an Idempotency-Key header or idempotency_key field is required")
    if idempotency_key and body.idempotency_key and idempotency_key != body.idempotency_key:
        raise MalformedRequestError("the Idempotency-Key header and idempotency_key field differ")
    try:
        recorded = record_usage(
            conn,
            tenant_id=access.principal.tenant_id,
            user_id=access.principal.user_id,
            meter=body.meter,
            quantity=body.quantity,
            idempotency_key=key,
            entitlements=access.entitlements,
        )
    except UsageLimitExceededError as exc:
        raise PlanLimitError(
            str(exc), limit="usage", used=exc.status.used, hard_limit=exc.status.hard_limit
        ) from exc
    except UsageKeyConflictError as exc:
        raise ConflictError(str(exc)) from exc
    if recorded.replayed:
        response.status_code = 200
    if recorded.status.soft_limit_reached:
        response.headers[SOFT_LIMIT_HEADER] = "soft-limit-reached"
    event = recorded.event
    return UsageEvent(
        id=event["id"],
        meter=event["meter"],
        quantity=event["quantity"],
        idempotency_key=event["idempotency_key"],
        occurred_at=event["occurred_at"],
        usage=summary(recorded.status),
    )


@router.get("", response_model=UsageOverview)
async def read(conn: TenantTx, access: CanRead) -> UsageOverview:
    status = usage_status(conn, tenant_id=access.principal.tenant_id, entitlements=access.entitlements)
    return UsageOverview(current=summary(status), months=[MonthlyUsage(**row) for row in monthly_usage(conn)])
