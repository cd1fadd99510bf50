"""Tenant profile, members (invite, change role, remove; never the last owner) and custom roles.

Nobody grants what they do not hold: a role given to someone, or the permissions of a custom role,
must be a subset of the caller's own permissions (an admin cannot mint owners or billing managers).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from psycopg import errors

from api.exceptions import ConflictError, NotFoundError, PermissionDeniedError, PlanLimitError
from api.repositories import audit as audit_repo
from api.repositories import directory
from api.repositories import members as members_repo
from api.repositories import roles as roles_repo
from api.repositories import tenants as tenants_repo
from api.schemas.common import Page
from api.schemas.tenancy import (
    AuditEntry,
    Me,
    Member,
    MemberInvite,
    MemberUpdate,
    MeTenant,
    MeUser,
    Permission,
    Role,
    RoleCreate,
    RoleUpdate,
    Tenant,
    TenantUpdate,
)
from api.services import audit
from api.services.access import Access
from api.services.audit import AuditActor
from api.services.pagination import decode_cursor, encode_cursor
from saascore.db.connection import Connection


def get_tenant(conn: Connection) -> Tenant:
    row = tenants_repo.get(conn)
    if row is None:
        raise NotFoundError("tenant not found")
    return Tenant.model_validate(row)


def update_tenant(conn: Connection, actor: AuditActor, body: TenantUpdate) -> Tenant:
    row = tenants_repo.get(conn, for_update=True)
    if row is None:
        raise NotFoundError("tenant not found")
    changes = {key: value for key, value in body.model_dump(exclude_unset=True).items() if row[key] != value}
    if not changes:
        return Tenant.model_validate(row)
    updated = tenants_repo.update(conn, changes=changes)
    audit.record(
        conn,
        actor,
        action="tenant.updated",
        resource_type="tenant",
        resource_id=actor.tenant_id,
        before=row,
        after=updated,
    )
    return Tenant.model_validate(updated)


def _grantable(access: Access, role: dict[str, Any]) -> None:
    missing = sorted(set(role["permissions"]) - access.permissions)
    if missing:
        raise PermissionDeniedError("you cannot grant permissions you do not hold", missing=missing)


def _role_by_key(conn: Connection, key: str) -> dict[str, Any]:
    role = roles_repo.get_by_key(conn, key=key)
    if role is None:
        raise NotFoundError(f"role {key!r} not found")
    return role


def _member(conn: Connection, member_id: uuid.UUID) -> dict[str, Any]:
    row = members_repo.get(conn, member_id=member_id, for_update=True)
    if row is None:
        raise NotFoundError(f"member {member_id} not found")
    return row


def _cursor_after(cursor: str | None, scope: dict[str, Any]) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    values = decode_cursor(cursor, scope, size=2)
    try:
        return datetime.fromisoformat(str(values[0])), uuid.UUID(str(values[1]))
    except ValueError as exc:
        from api.exceptions import MalformedRequestError

        raise MalformedRequestError("the cursor is invalid for this query") from exc


def list_members(conn: Connection, *, limit: int, cursor: str | None) -> Page[Member]:
    scope = {"list": "members"}
    rows = members_repo.list_page(conn, limit=limit, after=_cursor_after(cursor, scope))
    items = [Member.model_validate(row) for row in rows[:limit]]
    next_cursor = (
        encode_cursor([items[-1].created_at.isoformat(), str(items[-1].id)], scope)
        if len(rows) > limit
        else None
    )
    return Page[Member](items=items, next_cursor=next_cursor)


def invite_member(conn: Connection, access: Access, actor: AuditActor, body: MemberInvite) -> Member:
    role = _role_by_key(conn, body.role)
    _grantable(access, role)
    limit = access.entitlements.max_members
    if limit is not None and members_repo.count(conn) >= limit:
        raise PlanLimitError(f"the {access.plan} plan allows {limit} members", limit=limit, plan=access.plan)
    if members_repo.email_is_member(conn, email=body.email):
        raise ConflictError("that email is already a member or invited")
    try:
        row = members_repo.insert_invitation(
            conn,
            tenant_id=access.principal.tenant_id,
            email=body.email,
            role_id=role["id"],
            invited_by=access.principal.user_id,
        )
    except errors.UniqueViolation as exc:
        raise ConflictError("that email is already invited") from exc
    audit.record(
        conn,
        actor,
        action="member.invited",
        resource_type="member",
        resource_id=row["id"],
        after={"email": body.email, "role": body.role},
    )
    return Member.model_validate(row)


def _guard_last_owner(conn: Connection, member: dict[str, Any], new_role: str | None) -> None:
    if (
        member["role"] == "owner"
        and new_role != "owner"
        and member["status"] == "active"
        and members_repo.count_owners(conn) <= 1
    ):
        raise ConflictError("the last owner cannot be removed or demoted; make someone else owner first")


def change_member_role(
    conn: Connection, access: Access, actor: AuditActor, member_id: uuid.UUID, body: MemberUpdate
) -> Member:
    member = _member(conn, member_id)
    current_role = _role_by_key(conn, member["role"])
    new_role = _role_by_key(conn, body.role)
    _grantable(access, current_role)
    _grantable(access, new_role)
    if member["role"] == body.role:
        return Member.model_validate(member)
    _guard_last_owner(conn, member, body.role)
    updated = members_repo.set_role(conn, member_id=member_id, role_id=new_role["id"])
    audit.record(
        conn,
        actor,
        action="member.role_changed",
        resource_type="member",
        resource_id=member_id,
        before={"role": member["role"]},
        after={"role": body.role},
    )
    return Member.model_validate(updated)


def remove_member(conn: Connection, access: Access, actor: AuditActor, member_id: uuid.UUID) -> None:
    member = _member(conn, member_id)
    _grantable(access, _role_by_key(conn, member["role"]))
    _guard_last_owner(conn, member, None)
    members_repo.delete(conn, member_id=member_id)
    if member["user_id"] is not None:
        members_repo.revoke_user_sessions(conn, user_id=member["user_id"])
    audit.record(
        conn,
        actor,
        action="member.removed",
        resource_type="member",
        resource_id=member_id,
        before={
            "user_id": member["user_id"],
            "email": member["email"] or member["invited_email"],
            "role": member["role"],
        },
    )


def list_roles(conn: Connection) -> list[Role]:
    return [Role.model_validate(row) for row in roles_repo.list_all(conn)]


def list_permissions(conn: Connection) -> list[Permission]:
    return [Permission.model_validate(row) for row in roles_repo.catalogue(conn)]


def _check_permissions(conn: Connection, access: Access, permissions: list[str]) -> list[str]:
    wanted = sorted(set(permissions))
    unknown = roles_repo.unknown_permissions(conn, permissions=wanted)
    if unknown:
        raise NotFoundError("unknown permissions", unknown=unknown)
    _grantable(access, {"permissions": wanted})
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
    return Role.model_validate(row)


def update_role(
    conn: Connection, access: Access, actor: AuditActor, role_id: uuid.UUID, body: RoleUpdate
) -> Role:
    role = _custom_role(conn, role_id)
    _grantable(access, role)
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
    return Role.model_validate(updated)


def delete_role(conn: Connection, access: Access, actor: AuditActor, role_id: uuid.UUID) -> None:
    role = _custom_role(conn, role_id)
    _grantable(access, role)
    if roles_repo.in_use(conn, role_id=role_id):
        raise ConflictError("the role is assigned to members; reassign them first")
    roles_repo.delete(conn, role_id=role_id)
    audit.record(conn, actor, action="role.deleted", resource_type="role", resource_id=role_id, before=role)


def list_audit(
    conn: Connection,
    *,
    limit: int,
    cursor: str | None,
    action: str | None,
    resource_type: str | None,
    resource_id: str | None,
    actor_user_id: uuid.UUID | None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Page[AuditEntry]:
    scope = {
        "list": "audit",
        "a": action,
        "t": resource_type,
        "r": resource_id,
        "u": actor_user_id,
        "since": since,
        "until": until,
    }
    rows = audit_repo.list_page(
        conn,
        limit=limit,
        after=_cursor_after(cursor, scope),
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        actor_user_id=actor_user_id,
        since=since,
        until=until,
    )
    items = [AuditEntry.model_validate(row) for row in rows[:limit]]
    next_cursor = (
        encode_cursor([items[-1].created_at.isoformat(), str(items[-1].id)], scope)
        if len(rows) > limit
        else None
    )
    return Page[AuditEntry](items=items, next_cursor=next_cursor)


def parse_flags(header: str | None) -> dict[str, Any]:
    """The edge's ``x-flags``: a compact JSON object of feature key -> value; anything else is ignored."""
    try:
        flags = json.loads(header) if header else {}
    except ValueError:
        return {}
    return {str(key): value for key, value in flags.items()} if isinstance(flags, dict) else {}


def parse_experiments(header: str | None, *, max_items: int = 64) -> dict[str, str]:
    """The edge's ``x-experiments``: ``experiment:variation`` pairs, comma-separated, percent-encoded."""
    found: dict[str, str] = {}
    for item in (header or "").split(",")[:max_items]:
        key, sep, variation = item.strip().partition(":")
        if sep and key:
            found[unquote(key)] = unquote(variation)
    return found


def me(conn: Connection, access: Access, *, flags: str | None, experiments: str | None) -> Me:
    principal = access.principal
    user = directory.visible_user(conn, user_id=principal.user_id)
    tenants = directory.user_tenants(conn, user_id=principal.user_id)
    return Me(
        user=MeUser.model_validate(user)
        if user
        else MeUser(id=principal.user_id, email=None, display_name=None),
        tenant_id=principal.tenant_id,
        session_id=principal.session_id,
        tenants=[
            MeTenant(
                id=row["tenant_id"],
                name=row["name"],
                slug=row["slug"],
                role=row["role_key"],
                status=row["status"],
            )
            for row in tenants
        ],
        role=access.role,
        permissions=sorted(access.permissions),
        plan=access.plan,
        billing_status=access.billing_status,
        access_level=access.access_level,
        flags=parse_flags(flags),
        experiments=parse_experiments(experiments),
    )
