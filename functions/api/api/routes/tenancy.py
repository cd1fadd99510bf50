"""/api/v1/me, /tenant, /members, /roles, /permissions, /audit-logs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from api.deps import AccessDep, ActorDep, IdempotencyDep, RequirePermission, TenantTx
from api.schemas.common import DEFAULT_PAGE_SIZE, Page, PageSize
from api.schemas.tenancy import (
    AuditEntry,
    Me,
    Member,
    MemberInvite,
    MemberUpdate,
    Permission,
    Role,
    RoleCreate,
    RoleUpdate,
    Tenant,
    TenantUpdate,
)
from api.services import tenancy
from api.services.access import Access

router = APIRouter(prefix="/api/v1")


CanReadAudit = Annotated[Access, Depends(RequirePermission("audit:read"))]
CanInviteMembers = Annotated[Access, Depends(RequirePermission("members:invite"))]
CanReadMembers = Annotated[Access, Depends(RequirePermission("members:read"))]
CanRemoveMembers = Annotated[Access, Depends(RequirePermission("members:remove"))]
CanUpdateMembers = Annotated[Access, Depends(RequirePermission("members:update"))]
CanManageRoles = Annotated[Access, Depends(RequirePermission("roles:manage"))]
CanReadRoles = Annotated[Access, Depends(RequirePermission("roles:read"))]
CanReadTenant = Annotated[Access, Depends(RequirePermission("tenant:read"))]
CanUpdateTenant = Annotated[Access, Depends(RequirePermission("tenant:update"))]
Cursor = Annotated[str | None, Query(max_length=512)]


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


@router.get("/members", response_model=Page[Member], tags=["members"])
async def list_members(
    conn: TenantTx, _: CanReadMembers, limit: PageSize = DEFAULT_PAGE_SIZE, cursor: Cursor = None
) -> Page[Member]:
    return tenancy.list_members(conn, limit=limit, cursor=cursor)


@router.post("/members", status_code=201, response_model=Member, tags=["members"])
async def invite_member(
    body: MemberInvite, conn: TenantTx, access: CanInviteMembers, actor: ActorDep, idem: IdempotencyDep
) -> Response:
    return idem.respond(lambda: tenancy.invite_member(conn, access, actor, body), status_code=201)


@router.patch("/members/{member_id}", response_model=Member, tags=["members"])
async def change_member_role(
    *,
    member_id: uuid.UUID,
    body: MemberUpdate,
    conn: TenantTx,
    access: CanUpdateMembers,
    actor: ActorDep,
    idem: IdempotencyDep,
) -> Response:
    return idem.respond(lambda: tenancy.change_member_role(conn, access, actor, member_id, body))


@router.delete("/members/{member_id}", status_code=204, response_class=Response, tags=["members"])
async def remove_member(
    member_id: uuid.UUID, conn: TenantTx, access: CanRemoveMembers, actor: ActorDep, idem: IdempotencyDep
) -> Response:
    return idem.respond(lambda: tenancy.remove_member(conn, access, actor, member_id), status_code=204)


@router.get("/roles", response_model=list[Role], tags=["roles"])
async def list_roles(conn: TenantTx, _: CanReadRoles) -> list[Role]:
    return tenancy.list_roles(conn)


@router.get("/permissions", response_model=list[Permission], tags=["roles"])
async def list_permissions(conn: TenantTx, _: CanReadRoles) -> list[Permission]:
    return tenancy.list_permissions(conn)


@router.post("/roles", status_code=201, response_model=Role, tags=["roles"])
async def create_role(
    body: RoleCreate, conn: TenantTx, access: CanManageRoles, actor: ActorDep, idem: IdempotencyDep
) -> Response:
    return idem.respond(lambda: tenancy.create_role(conn, access, actor, body), status_code=201)


@router.patch("/roles/{role_id}", response_model=Role, tags=["roles"])
async def update_role(
    *,
    role_id: uuid.UUID,
    body: RoleUpdate,
    conn: TenantTx,
    access: CanManageRoles,
    actor: ActorDep,
    idem: IdempotencyDep,
) -> Response:
    return idem.respond(lambda: tenancy.update_role(conn, access, actor, role_id, body))


@router.delete("/roles/{role_id}", status_code=204, response_class=Response, tags=["roles"])
async def delete_role(
    role_id: uuid.UUID, conn: TenantTx, access: CanManageRoles, actor: ActorDep, idem: IdempotencyDep
) -> Response:
    return idem.respond(lambda: tenancy.delete_role(conn, access, actor, role_id), status_code=204)


@router.get("/audit-logs", response_model=Page[AuditEntry], tags=["audit"])
async def list_audit_logs(
    *,
    conn: TenantTx,
    _: CanReadAudit,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    resource_type: Annotated[str | None, Query(max_length=100)] = None,
    resource_id: Annotated[str | None, Query(max_length=200)] = None,
    actor_user_id: uuid.UUID | None = None,
    since: Annotated[datetime | None, Query(description="created at or after (ISO 8601)")] = None,
    until: Annotated[datetime | None, Query(description="created before (ISO 8601)")] = None,
) -> Page[AuditEntry]:
    return tenancy.list_audit(
        conn,
        limit=limit,
        cursor=cursor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        actor_user_id=actor_user_id,
        since=since,
        until=until,
    )
