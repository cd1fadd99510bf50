"""Tenant API keys (owner/admin): create (the secret is shown once), list, revoke."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from api.deps import ActorDep, TenantTx, require_permission
from api.schemas.api_keys import ApiKey, ApiKeyCreate, ApiKeyCreated
from api.schemas.common import DEFAULT_PAGE_SIZE, Page, PageSize
from api.services import api_keys
from api.services.access import Access

router = APIRouter(prefix="/api/v1/api-keys", tags=["api keys"])

Manage = Annotated[Access, Depends(require_permission("api_keys:manage"))]


# No Idempotency-Key here: a replay would need the response, i.e. the secret, stored in plain text.
@router.post("", status_code=201, response_model=ApiKeyCreated)
async def create_api_key(
    body: ApiKeyCreate, conn: TenantTx, access: Manage, actor: ActorDep
) -> ApiKeyCreated:
    return api_keys.create(conn, access, actor, body)


@router.get("", response_model=Page[ApiKey])
async def list_api_keys(
    conn: TenantTx,
    access: Manage,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Page[ApiKey]:
    return api_keys.list_keys(conn, limit=limit, cursor=cursor)


@router.delete("/{api_key_id}", status_code=204, response_class=Response)
async def revoke_api_key(api_key_id: uuid.UUID, conn: TenantTx, access: Manage, actor: ActorDep) -> Response:
    api_keys.revoke(conn, actor, api_key_id)
    return Response(status_code=204)
