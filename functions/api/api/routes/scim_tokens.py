"""SCIM bearer tokens (owner/admin): issue (shown once), list, rotate, revoke."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response

from api.deps import ActorDep, TenantTx, require_permission
from api.schemas.scim import ScimTokenCreate, ScimTokenCreated, ScimTokenList
from api.services import scim_tokens
from api.services.access import Access

router = APIRouter(prefix="/api/v1/scim-tokens", tags=["scim"])

Manage = Annotated[Access, Depends(require_permission("scim:manage"))]


# No Idempotency-Key on issuing: a replay would need the token stored in plain text.
@router.post("", status_code=201, response_model=ScimTokenCreated)
async def create_scim_token(
    body: ScimTokenCreate, conn: TenantTx, access: Manage, actor: ActorDep
) -> ScimTokenCreated:
    return scim_tokens.create(conn, access, actor, name=body.name)


@router.get("", response_model=ScimTokenList)
async def list_scim_tokens(conn: TenantTx, access: Manage) -> ScimTokenList:
    return scim_tokens.list_tokens(conn)


@router.post("/{scim_token_id}/rotate", status_code=201, response_model=ScimTokenCreated)
async def rotate_scim_token(
    scim_token_id: uuid.UUID, conn: TenantTx, access: Manage, actor: ActorDep
) -> ScimTokenCreated:
    return scim_tokens.rotate(conn, access, actor, scim_token_id)


@router.delete("/{scim_token_id}", status_code=204, response_class=Response)
async def revoke_scim_token(
    scim_token_id: uuid.UUID, conn: TenantTx, access: Manage, actor: ActorDep
) -> Response:
    scim_tokens.revoke(conn, actor, scim_token_id)
    return Response(status_code=204)
