"""/api/v1/audit-logs: the tenant's audit log, newest first, read from the replica when one is close enough."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import ReplicaTx, RequirePermission
from api.schemas.audit import AuditEntry
from api.schemas.common import DEFAULT_PAGE_SIZE, Page, PageSize
from api.services import audit
from api.services.access import Access

router = APIRouter(prefix="/api/v1")

Cursor = Annotated[str | None, Query(max_length=512)]
CanReadAudit = Annotated[Access, Depends(RequirePermission("audit:read"))]


@router.get("/audit-logs", response_model=Page[AuditEntry], tags=["audit"])
async def list_audit_logs(
    *,
    conn: ReplicaTx,
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
    return audit.list_audit(
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
