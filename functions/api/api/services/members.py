"""Members: invite, change role, remove; never the last owner.

Nobody grants what they do not hold: the role given to someone must be a subset of the caller's own
permissions (an admin cannot mint owners or billing managers).
"""

from __future__ import annotations

import uuid
from typing import Any

from psycopg import errors

from api.exceptions import ConflictError, NotFoundError, PlanLimitError
from api.repositories import members as members_repo
from api.repositories import roles as roles_repo
from api.schemas.common import Page
from api.schemas.members import (
    Member,
    MemberInvite,
    MemberUpdate,
)
from api.services import audit, events
from api.services.access import Access, check_grantable
from api.services.audit import AuditActor
from api.services.pagination import encode_cursor, keyset_after
from saascore.db.connection import Connection


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


def list_members(conn: Connection, *, limit: int, cursor: str | None) -> Page[Member]:
    scope = {"list": "members"}
    rows = members_repo.list_page(conn, limit=limit, after=keyset_after(cursor, scope))
    items = [Member.model_validate(row) for row in rows[:limit]]
    next_cursor = (
        encode_cursor([items[-1].created_at.isoformat(), str(items[-1].id)], scope)
        if len(rows) > limit
        else None
    )
    return Page[Member](items=items, next_cursor=next_cursor)


def invite_member(conn: Connection, access: Access, actor: AuditActor, body: MemberInvite) -> Member:
    role = _role_by_key(conn, body.role)
    check_grantable(access, role)
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
    member = Member.model_validate(row)
    events.emit(conn, actor, "member.added", {"member": member.model_dump(mode="json")})
    return member


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
    check_grantable(access, current_role)
    check_grantable(access, new_role)
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
    changed = Member.model_validate(updated)
    events.emit(
        conn,
        actor,
        "member.role_changed",
        {"member": changed.model_dump(mode="json"), "previous_role": member["role"]},
    )
    return changed


def remove_member(conn: Connection, access: Access, actor: AuditActor, member_id: uuid.UUID) -> None:
    member = _member(conn, member_id)
    check_grantable(access, _role_by_key(conn, member["role"]))
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
    events.emit(
        conn,
        actor,
        "member.removed",
        {"member": Member.model_validate(member).model_dump(mode="json")},
    )
