"""Projects: create within the plan's limit, optimistic concurrency by version, soft delete and restore."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from api.exceptions import (
    ConflictError,
    MalformedRequestError,
    NotFoundError,
    PlanLimitError,
    PreconditionFailedError,
    PreconditionRequiredError,
)
from api.repositories import projects as repo
from api.schemas.common import Page
from api.schemas.projects import Project, ProjectCreate, ProjectUpdate
from api.services import audit, events
from api.services.access import Access
from api.services.audit import AuditActor
from api.services.pagination import decode_cursor, encode_cursor
from saascore.db.connection import Connection

RESOURCE = "project"


def etag(project: Project) -> str:
    return f'"v{project.version}"'


def check_if_match(if_match: str | None, current: Project) -> None:
    """RFC 9110 If-Match: required for changes; ``*`` or any listed tag equal to the current one passes."""
    if if_match is None:
        raise PreconditionRequiredError("send If-Match with the ETag you last read")
    candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" not in candidates and etag(current) not in candidates:
        raise PreconditionFailedError("the project changed since you read it", current_etag=etag(current))


def _not_found(project_id: uuid.UUID) -> NotFoundError:
    return NotFoundError(f"project {project_id} not found")


def create(conn: Connection, access: Access, actor: AuditActor, body: ProjectCreate) -> Project:
    limit = access.entitlements.max_projects
    if limit is not None:
        repo.serialize_creates(conn, tenant_id=access.principal.tenant_id)
    row = repo.insert(
        conn,
        tenant_id=access.principal.tenant_id,
        user_id=access.principal.user_id,
        name=body.name,
        description=body.description,
        status=body.status,
        max_projects=limit,
    )
    if row is None:
        raise PlanLimitError(
            f"the {access.plan} plan allows {limit} projects; upgrade or delete one",
            limit=limit,
            plan=access.plan,
        )
    project = Project.model_validate(row)
    audit.record(
        conn, actor, action="project.created", resource_type=RESOURCE, resource_id=project.id, after=row
    )
    events.emit(conn, actor, "project.created", {"project": project.model_dump(mode="json")})
    return project


def get(conn: Connection, project_id: uuid.UUID) -> Project:
    row = repo.get(conn, project_id=project_id)
    if row is None:
        raise _not_found(project_id)
    return Project.model_validate(row)


def update(
    conn: Connection, actor: AuditActor, project_id: uuid.UUID, body: ProjectUpdate, if_match: str | None
) -> Project:
    row = repo.get(conn, project_id=project_id, for_update=True)
    if row is None or row["deleted_at"] is not None:
        raise _not_found(project_id)
    current = Project.model_validate(row)
    check_if_match(if_match, current)
    changes = {
        name: value for name, value in body.model_dump(exclude_unset=True).items() if row[name] != value
    }
    if not changes:
        return current
    updated = repo.update(conn, project_id=project_id, changes=changes)
    audit.record(
        conn,
        actor,
        action="project.updated",
        resource_type=RESOURCE,
        resource_id=project_id,
        before=row,
        after=updated,
    )
    project = Project.model_validate(updated)
    events.emit(
        conn,
        actor,
        "project.updated",
        {"project": project.model_dump(mode="json"), "changes": sorted(changes)},
    )
    return project


def delete(conn: Connection, actor: AuditActor, project_id: uuid.UUID, if_match: str | None) -> None:
    row = repo.get(conn, project_id=project_id, for_update=True)
    if row is None or row["deleted_at"] is not None:
        raise _not_found(project_id)
    if if_match is not None:
        check_if_match(if_match, Project.model_validate(row))
    deleted = repo.set_deleted(conn, project_id=project_id, deleted=True)
    audit.record(
        conn,
        actor,
        action="project.deleted",
        resource_type=RESOURCE,
        resource_id=project_id,
        before=row,
        after=deleted,
    )
    events.emit(
        conn, actor, "project.deleted", {"project": Project.model_validate(deleted).model_dump(mode="json")}
    )


def restore(conn: Connection, access: Access, actor: AuditActor, project_id: uuid.UUID) -> Project:
    row = repo.get(conn, project_id=project_id, for_update=True)
    if row is None:
        raise _not_found(project_id)
    if row["deleted_at"] is None:
        raise ConflictError("the project is not deleted")
    limit = access.entitlements.max_projects
    if limit is not None:
        repo.serialize_creates(conn, tenant_id=access.principal.tenant_id)
        if repo.count_live(conn) >= limit:
            raise PlanLimitError(
                f"the {access.plan} plan allows {limit} projects", limit=limit, plan=access.plan
            )
    restored = repo.set_deleted(conn, project_id=project_id, deleted=False)
    audit.record(
        conn,
        actor,
        action="project.restored",
        resource_type=RESOURCE,
        resource_id=project_id,
        before=row,
        after=restored,
    )
    return Project.model_validate(restored)


def _cursor_values(values: list[Any], sort: str) -> list[Any]:
    """Re-type a decoded cursor so a forged one is a 400, never a database error."""
    try:
        key = datetime.fromisoformat(values[0]) if sort.endswith("created_at") else str(values[0])
        return [key, uuid.UUID(str(values[1]))]
    except (TypeError, ValueError) as exc:
        raise MalformedRequestError(
            "the cursor is invalid for this query; start from the first page"
        ) from exc


def list_projects(
    conn: Connection,
    *,
    sort: str,
    limit: int,
    cursor: str | None,
    status: str | None,
    name_contains: str | None,
    deleted: bool,
) -> Page[Project]:
    scope = {"sort": sort, "status": status, "q": name_contains, "deleted": deleted}
    after = _cursor_values(decode_cursor(cursor, scope, size=2), sort) if cursor else None
    rows = repo.list_page(
        conn, sort=sort, limit=limit, after=after, status=status, name_contains=name_contains, deleted=deleted
    )
    items = [Project.model_validate(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        key_column = repo.SORTS[sort][2]
        next_cursor = encode_cursor(
            [
                getattr(last, key_column).isoformat() if key_column == "created_at" else last.name,
                str(last.id),
            ],
            scope,
        )
    return Page[Project](items=items, next_cursor=next_cursor)
