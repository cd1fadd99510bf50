"""/api/v1/ops: reports and tenant lifecycle actions for platform operators (owners and admins of a
registered operator tenant); every other caller, tenant owners included, gets 403 problem+json
(decisions 0091, 0113)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import AccessDep, ActorDep, TenantTx
from api.schemas.ops import OpsReport, TenantActionRequest, TenantLifecycle, TenantOffboardRequest
from api.services import ops
from api.services.access import Access
from saascore.lifecycle.states import Action

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


def _act(
    conn: TenantTx,
    operator: Access,
    actor: ActorDep,
    *,
    tenant_id: uuid.UUID,
    action: Action,
    body: TenantActionRequest | None,
    grace_days: int | None = None,
) -> TenantLifecycle:
    transition = ops.act_on_tenant(
        conn,
        operator,
        actor,
        tenant_id=tenant_id,
        action=action,
        note=None if body is None else body.note,
        grace_days=grace_days,
        now=datetime.now(UTC),
    )
    return TenantLifecycle.of(tenant_id, action, transition)


@router.post("/tenants/{tenant_id}/suspend", response_model=TenantLifecycle)
async def suspend_tenant(
    tenant_id: uuid.UUID,
    conn: TenantTx,
    operator: OperatorDep,
    actor: ActorDep,
    body: TenantActionRequest | None = None,
) -> TenantLifecycle:
    """Refuse every request of the tenant from its next one on, until it is reactivated."""
    return _act(conn, operator, actor, tenant_id=tenant_id, action=Action.SUSPEND, body=body)


@router.post("/tenants/{tenant_id}/reactivate", response_model=TenantLifecycle)
async def reactivate_tenant(
    tenant_id: uuid.UUID,
    conn: TenantTx,
    operator: OperatorDep,
    actor: ActorDep,
    body: TenantActionRequest | None = None,
) -> TenantLifecycle:
    """Lift an operator's suspension, or cancel an offboarding before its grace period is over."""
    return _act(conn, operator, actor, tenant_id=tenant_id, action=Action.REACTIVATE, body=body)


@router.post("/tenants/{tenant_id}/offboard", response_model=TenantLifecycle)
async def offboard_tenant(
    tenant_id: uuid.UUID,
    conn: TenantTx,
    operator: OperatorDep,
    actor: ActorDep,
    body: TenantOffboardRequest | None = None,
) -> TenantLifecycle:
    """Start the grace period after which the tenant's data is erased (a repeat keeps the first date)."""
    grace_days = None if body is None else body.grace_days
    return _act(
        conn, operator, actor, tenant_id=tenant_id, action=Action.OFFBOARD, body=body, grace_days=grace_days
    )
