"""/api/v1/members: invite, list, change role, remove."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api.deps import ActorDep, IdempotencyDep, RequirePermission, TenantTx
from api.schemas.common import DEFAULT_PAGE_SIZE, Page, PageSize
from api.schemas.members import Member, MemberInvite, MemberUpdate
from api.services import members
from api.services.access import Access

router = APIRouter(prefix="/api/v1")

Cursor = Annotated[str | None, Query(max_length=512)]
CanInviteMembers = Annotated[Access, Depends(RequirePermission("members:invite"))]
CanReadMembers = Annotated[Access, Depends(RequirePermission("members:read"))]
CanRemoveMembers = Annotated[Access, Depends(RequirePermission("members:remove"))]
CanUpdateMembers = Annotated[Access, Depends(RequirePermission("members:update"))]


@router.get("/members", response_model=Page[Member], tags=["members"])
async def list_members(
    conn: TenantTx, _: CanReadMembers, limit: PageSize = DEFAULT_PAGE_SIZE, cursor: Cursor = None
) -> Page[Member]:
    return members.list_members(conn, limit=limit, cursor=cursor)


@router.post("/members", status_code=201, response_model=Member, tags=["members"])
async def invite_member(
    body: MemberInvite, conn: TenantTx, access: CanInviteMembers, actor: ActorDep, idem: IdempotencyDep
) -> Response:
    return idem.respond(lambda: members.invite_member(conn, access, actor, body), status_code=201)


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
    return idem.respond(lambda: members.change_member_role(conn, access, actor, member_id, body))


@router.delete("/members/{member_id}", status_code=204, response_class=Response, tags=["members"])
async def remove_member(
    member_id: uuid.UUID, conn: TenantTx, access: CanRemoveMembers, actor: ActorDep, idem: IdempotencyDep
) -> Response:
    return idem.respond(lambda: members.remove_member(conn, access, actor, member_id), status_code=204)
