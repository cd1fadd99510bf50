"""The SCIM group → role mapping (owner/admin): which role the members of each IdP-pushed group get."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import ActorDep, TenantTx, require_permission
from api.schemas.scim import ScimGroupRole, ScimGroupRoleList, ScimGroupRoleUpdate
from api.services import scim_groups
from api.services.access import Access

router = APIRouter(prefix="/api/v1/scim-groups", tags=["scim"])

Manage = Annotated[Access, Depends(require_permission("scim:manage"))]


@router.get("", response_model=ScimGroupRoleList)
async def list_scim_groups(conn: TenantTx, access: Manage) -> ScimGroupRoleList:
    return scim_groups.list_groups(conn)


@router.put("/{scim_group_id}/role", response_model=ScimGroupRole)
async def map_scim_group_role(
    scim_group_id: uuid.UUID, body: ScimGroupRoleUpdate, conn: TenantTx, access: Manage, actor: ActorDep
) -> ScimGroupRole:
    return scim_groups.map_role(conn, access, actor, scim_group_id, body.role)
