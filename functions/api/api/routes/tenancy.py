"""/api/v1/me and /api/v1/tenant."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response

from api.deps import AccessDep, ActorDep, IdempotencyDep, RequirePermission, TenantTx
from api.schemas.tenancy import (
    Me,
    Tenant,
    TenantUpdate,
)
from api.services import tenancy
from api.services.access import Access

router = APIRouter(prefix="/api/v1")

CanReadTenant = Annotated[Access, Depends(RequirePermission("tenant:read"))]
CanUpdateTenant = Annotated[Access, Depends(RequirePermission("tenant:update"))]


@router.get("/me", response_model=Me, tags=["sessions"])
async def get_me(
    conn: TenantTx,
    access: AccessDep,
    x_flags: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_experiments: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Me:
    return tenancy.me(conn, access, flags=x_flags, experiments=x_experiments)


@router.get("/tenant", response_model=Tenant, tags=["tenant"])
async def get_tenant(conn: TenantTx, _: CanReadTenant) -> Tenant:
    return tenancy.get_tenant(conn)


@router.patch("/tenant", response_model=Tenant, tags=["tenant"])
async def update_tenant(
    body: TenantUpdate, conn: TenantTx, _: CanUpdateTenant, actor: ActorDep, idem: IdempotencyDep
) -> Response:
    return idem.respond(lambda: tenancy.update_tenant(conn, actor, body))
