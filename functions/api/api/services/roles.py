"""Custom roles and the permission catalogue.

A custom role's permissions must be a subset of the caller's own permissions.
"""

from __future__ import annotations

import uuid
from typing import Any

from psycopg import errors

from api.exceptions import ConflictError, NotFoundError
from api.repositories import roles as roles_repo
from api.schemas.roles import (
    Permission,
    Role,
    RoleCreate,
    RoleUpdate,
)
from api.services import audit, events
from api.services.access import Access, check_grantable
from api.services.audit import AuditActor
from saascore.db.connection import Connection


def list_roles(conn: Connection) -> list[Role]:
    return [Role.model_validate(row) for row in roles_repo.list_all(conn)]


def list_permissions(conn: Connection) -> list[Permission]:
    return [Permission.model_validate(row) for row in roles_repo.catalogue(conn)]


def _check_permissions(conn: Connection, access: Access, permissions: list[str]) -> list[str]:
    wanted = sorted(set(permissions))
    unknown = roles_repo.unknown_permissions(conn, permissions=wanted)
    if unknown:
        raise NotFoundError("unknown permissions", unknown=unknown)
    check_grantable(access, {"permissions": wanted})
    return wanted


def _custom_role(conn: Connection, role_id: uuid.UUID) -> dict[str, Any]:
    role = roles_repo.get(conn, role_id=role_id, for_update=True)
    if role is None:
        raise NotFoundError(f"role {role_id} not found")
    if role["is_system"]:
        raise ConflictError("system roles cannot be changed")
    return role


def create_role(conn: Connection, access: Access, actor: AuditActor, body: RoleCreate) -> Role:
    permissions = _check_permissions(conn, access, body.permissions)
    try:
        role_id = roles_repo.insert(conn, tenant_id=access.principal.tenant_id, key=body.key, name=body.name)
    except errors.UniqueViolation as exc:
        raise ConflictError(f"a role with key {body.key!r} exists") from exc
    roles_repo.set_permissions(
        conn, tenant_id=access.principal.tenant_id, role_id=role_id, permissions=permissions
    )
    row = roles_repo.get(conn, role_id=role_id)
    audit.record(conn, actor, action="role.created", resource_type="role", resource_id=role_id, after=row)
    role = Role.model_validate(row)
    events.emit(conn, actor, "role.created", {"role": role.model_dump(mode="json")})
    return role


def update_role(
    conn: Connection, access: Access, actor: AuditActor, role_id: uuid.UUID, body: RoleUpdate
) -> Role:
    role = _custom_role(conn, role_id)
    check_grantable(access, role)
    if body.permissions is not None:
        roles_repo.set_permissions(
            conn,
            tenant_id=access.principal.tenant_id,
            role_id=role_id,
            permissions=_check_permissions(conn, access, body.permissions),
        )
    if body.name is not None:
        roles_repo.rename(conn, role_id=role_id, name=body.name)
    updated = roles_repo.get(conn, role_id=role_id)
    assert updated is not None
    audit.record(
        conn,
        actor,
        action="role.updated",
        resource_type="role",
        resource_id=role_id,
        before=role,
        after=updated,
    )
    changed = Role.model_validate(updated)
    events.emit(conn, actor, "role.updated", {"role": changed.model_dump(mode="json")})
    return changed


def delete_role(conn: Connection, access: Access, actor: AuditActor, role_id: uuid.UUID) -> None:
    role = _custom_role(conn, role_id)
    check_grantable(access, role)
    if roles_repo.in_use(conn, role_id=role_id):
        raise ConflictError("the role is assigned to members; reassign them first")
    roles_repo.delete(conn, role_id=role_id)
    audit.record(conn, actor, action="role.deleted", resource_type="role", resource_id=role_id, before=role)
    events.emit(conn, actor, "role.deleted", {"role": Role.model_validate(role).model_dump(mode="json")})
