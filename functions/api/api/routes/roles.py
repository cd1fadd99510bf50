"""/api/v1/roles (custom roles) and /api/v1/permissions (the catalogue)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.deps import ActorDep, IdempotencyDep, RequirePermission, TenantTx
from api.schemas.roles import Permission, Role, RoleCreate, RoleUpdate
from api.services import roles
from api.services.access import Access

router = APIRouter(prefix="/api/v1")

CanManageRoles = Annotated[Access, Depends(RequirePermission("roles:manage"))]
CanReadRoles = Annotated[Access, Depends(RequirePermission("roles:read"))]


@router.get("/roles", response_model=list[Role], tags=["roles"])
async def list_roles(conn: TenantTx, _: CanReadRoles) -> list[Role]:
    return roles.list_roles(conn)


@router.get("/permissions", response_model=list[Permission], tags=["roles"])
async def list_permissions(conn: TenantTx, _: CanReadRoles) -> list[Permission]:
    return roles.list_permissions(conn)


@router.post("/roles", status_code=201, response_model=Role, tags=["roles"])
async def create_role(
    body: RoleCreate, conn: TenantTx, access: CanManageRoles, actor: ActorDep, idem: IdempotencyDep
) -> Response:
    return idem.respond(lambda: roles.create_role(conn, access, actor, body), status_code=201)


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
    return idem.respond(lambda: roles.update_role(conn, access, actor, role_id, body))


@router.delete("/roles/{role_id}", status_code=204, response_class=Response, tags=["roles"])
async def delete_role(
    role_id: uuid.UUID, conn: TenantTx, access: CanManageRoles, actor: ActorDep, idem: IdempotencyDep
) -> Response:
    return idem.respond(lambda: roles.delete_role(conn, access, actor, role_id), status_code=204)
