"""/api/v1/projects: the example domain resource."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from api.deps import ActorDep, IdempotencyDep, RequirePermission, TenantTx
from api.schemas.common import DEFAULT_PAGE_SIZE, Page, PageSize
from api.schemas.projects import Project, ProjectCreate, ProjectSort, ProjectStatus, ProjectUpdate
from api.services import projects
from api.services.access import Access

router = APIRouter(prefix="/api/v1/projects", tags=["projects"])

CanRead = Annotated[Access, Depends(RequirePermission("projects:read"))]
CanCreate = Annotated[Access, Depends(RequirePermission("projects:create"))]
CanUpdate = Annotated[Access, Depends(RequirePermission("projects:update"))]
CanDelete = Annotated[Access, Depends(RequirePermission("projects:delete"))]
IfMatch = Annotated[str | None, Header(description="ETag of the version you read (required for PATCH)")]


def _etag_header(project: object) -> dict[str, str]:
    assert isinstance(project, Project)
    return {"ETag": projects.etag(project), "Location": f"/api/v1/projects/{project.id}"}


@router.post("", status_code=201, response_model=Project)
async def create_project(
    body: ProjectCreate, conn: TenantTx, access: CanCreate, actor: ActorDep, idem: IdempotencyDep
) -> Response:
    return idem.respond(
        lambda: projects.create(conn, access, actor, body), status_code=201, headers=_etag_header
    )


@router.get("", response_model=Page[Project])
async def list_projects(
    *,
    conn: TenantTx,
    _: CanRead,
    limit: PageSize = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    sort: ProjectSort = "-created_at",
    status: ProjectStatus | None = None,
    q: Annotated[str | None, Query(max_length=200, description="name contains (case-insensitive)")] = None,
    deleted: bool = False,
) -> Page[Project]:
    return projects.list_projects(
        conn, sort=sort, limit=limit, cursor=cursor, status=status, name_contains=q, deleted=deleted
    )


@router.get("/{project_id}", response_model=Project)
async def get_project(project_id: uuid.UUID, conn: TenantTx, _: CanRead, response: Response) -> Project:
    project = projects.get(conn, project_id)
    response.headers["ETag"] = projects.etag(project)
    return project


@router.patch("/{project_id}", response_model=Project)
async def update_project(
    *,
    project_id: uuid.UUID,
    body: ProjectUpdate,
    conn: TenantTx,
    _: CanUpdate,
    actor: ActorDep,
    idem: IdempotencyDep,
    if_match: IfMatch = None,
) -> Response:
    return idem.respond(
        lambda: projects.update(conn, actor, project_id, body, if_match), headers=_etag_header
    )


@router.delete("/{project_id}", status_code=204, response_class=Response)
async def delete_project(
    project_id: uuid.UUID,
    conn: TenantTx,
    _: CanDelete,
    actor: ActorDep,
    idem: IdempotencyDep,
    if_match: IfMatch = None,
) -> Response:
    return idem.respond(lambda: projects.delete(conn, actor, project_id, if_match), status_code=204)


@router.post("/{project_id}/restore", response_model=Project)
async def restore_project(
    project_id: uuid.UUID, conn: TenantTx, access: CanUpdate, actor: ActorDep, idem: IdempotencyDep
) -> Response:
    return idem.respond(lambda: projects.restore(conn, access, actor, project_id), headers=_etag_header)
