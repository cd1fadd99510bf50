"""/api/v1/audit-logs: the tenant's audit log, newest first, and its export as JSON Lines; both read from
the replica when one is close enough."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from api.deps import ReplicaTx, RequirePermission, TenantDb
from api.schemas.audit import AuditEntry
from api.schemas.common import DEFAULT_PAGE_SIZE, Page, PageSize
from api.services import audit, audit_export
from api.services.access import Access
from saascore.archive.audit_format import AUDIT_LOG_CONTENT_TYPE

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


Instant = Annotated[str | None, Query(max_length=64, description="ISO 8601 date-time with a UTC offset")]


@router.get(
    "/audit-logs/export",
    tags=["audit"],
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "JSON Lines, format saas-audit-log/1 (docs/lifecycle.md); when capped, a "
            '`Link: <…>; rel="next"` header continues it',
            "content": {AUDIT_LOG_CONTENT_TYPE: {"schema": {"type": "string"}}},
        }
    },
)
async def export_audit_logs(
    *,
    conn: ReplicaTx,
    access: CanReadAudit,
    db: TenantDb,
    since: Instant = None,
    until: Annotated[
        str | None,
        Query(max_length=64, description="exclusive end, at most 31 days after since (default: now)"),
    ] = None,
    cursor: Cursor = None,
) -> StreamingResponse:
    plan = audit_export.plan_export(conn, since=since, until=until, cursor=cursor, now=datetime.now(UTC))
    link = plan.next_link
    return StreamingResponse(
        audit_export.stream(db, access.principal.tenant_id, plan),
        media_type=AUDIT_LOG_CONTENT_TYPE,
        headers={"Link": link} if link else None,
    )
