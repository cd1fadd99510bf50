"""/api/v2/events: the tenant's domain event log (the first v2 operation; see api.versioning)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import RequirePermission, TenantTx
from api.schemas.common import DEFAULT_PAGE_SIZE, Page, PageSize
from api.schemas.events import Event
from api.services import events
from api.services.access import Access
from saascore.events.catalog import EVENT_TYPES

router = APIRouter(prefix="/api/v2/events", tags=["events"])

CanRead = Annotated[Access, Depends(RequirePermission("audit:read"))]
EventTypeName = Annotated[
    str | None, Query(max_length=100, description=f"one of: {', '.join(sorted(EVENT_TYPES))}")
]


@router.get("", response_model=Page[Event])
async def list_events(
    conn: TenantTx,
    _: CanRead,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    type: EventTypeName = None,
) -> Page[Event]:
    return events.list_events(conn, type=type, limit=limit, cursor=cursor)
