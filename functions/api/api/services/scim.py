"""SCIM 2.0 Users and Groups of one tenant (RFC 7643/7644), and what provisioning does to its members.

A SCIM user provisions one membership: the person's, found by their e-mail, else an invitation to it (accepted
at their first sign-in). Its role follows the tenant's group → role mapping (``scim_groups.role_id``): the
strongest mapped role among the user's groups, else ``member``; owners are left alone (they are managed in
the app, so SCIM can never demote the last one). ``active: false`` and DELETE remove the membership and
revoke every session of the person in this tenant in the same transaction, so their next request is refused.
Every write is audited, and any refusal leaves nothing written.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from psycopg import errors

from api.exceptions import ScimError
from api.repositories import members as members_repo
from api.repositories import scim as repo
from api.services import audit
from api.services.audit import AuditActor
from api.services.scim_patch import Comparison, apply, parse_filter
from api.services.scim_schema import (
    ENTERPRISE_SCHEMA,
    GROUPS,
    LIST_SCHEMA,
    USERS,
    ResourceType,
    invalid,
    parse_resource,
    project,
)
from saascore.db.connection import Connection

DEFAULT_ROLE = "member"
MAX_RESULTS = 100


@dataclass(frozen=True, slots=True)
class ScimContext:
    """The authenticated SCIM caller: a tenant's token, with where it is served from."""

    tenant_id: uuid.UUID
    token_id: uuid.UUID
    token_creator: uuid.UUID
    base_url: str
    actor: AuditActor
    max_members: int | None


@dataclass(frozen=True, slots=True)
class Query:
    filter: str | None = None
    start_index: int = 1
    count: int = MAX_RESULTS
    attributes: str | None = None
    excluded_attributes: str | None = None


def not_found(kind: str) -> ScimError:
    return ScimError(f"no such {kind}", status=404)


def parse_body(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise invalid("the body is not valid JSON", "invalidSyntax") from exc


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _record(
    ctx: ScimContext, conn: Connection, action: str, kind: str, resource_id: object, **changes: Any
) -> None:
    audit.record(
        conn,
        ctx.actor,
        action=action,
        resource_type=kind,
        resource_id=resource_id,
        after={**changes, "scim_token_id": str(ctx.token_id)},
    )


# Representation


def _meta(ctx: ScimContext, kind: str, endpoint: str, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": kind,
        "created": row["created_at"].isoformat(),
        "lastModified": row["updated_at"].isoformat(),
        "location": f"{ctx.base_url}{endpoint}/{row['id']}",
        "version": f'W/"{row["version"]}"',
    }


def _user_document(ctx: ScimContext, row: dict[str, Any], groups: list[dict[str, Any]]) -> dict[str, Any]:
    attributes = dict(row["attributes"])
    schemas = [USERS.schema.id] + ([ENTERPRISE_SCHEMA] if ENTERPRISE_SCHEMA in attributes else [])
    document = {"schemas": schemas, "id": str(row["id"]), **attributes}
    if groups:
        document["groups"] = [
            {
                "value": str(g["id"]),
                "$ref": f"{ctx.base_url}/Groups/{g['id']}",
                "display": g["display_name"],
                "type": "direct",
            }
            for g in groups
        ]
    document["meta"] = _meta(ctx, "User", "/Users", row)
    return document


def _group_document(ctx: ScimContext, row: dict[str, Any], members: list[dict[str, Any]]) -> dict[str, Any]:
    document = {"schemas": [GROUPS.schema.id], "id": str(row["id"]), **row["attributes"]}
    if members:
        # No ``display``: members are written as {value, $ref, type} and read back the same.
        document["members"] = [
            {"value": str(m["id"]), "$ref": f"{ctx.base_url}/Users/{m['id']}", "type": "User"}
            for m in members
        ]
    document["meta"] = _meta(ctx, "Group", "/Groups", row)
    return document


def _users(ctx: ScimContext, conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for g in repo.user_groups(conn, user_ids=[r["id"] for r in rows]):
        groups.setdefault(g["user_id"], []).append(g)
    return [_user_document(ctx, row, groups.get(row["id"], [])) for row in rows]


def _groups(ctx: ScimContext, conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    members: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for m in repo.group_members(conn, group_ids=[r["id"] for r in rows]):
        members.setdefault(m["group_id"], []).append(m)
    return [_group_document(ctx, row, members.get(row["id"], [])) for row in rows]


# Filters and lists

# (resource type, lower-case attribute) -> (SQL condition, value kind); the only attributes filters may name.
_FILTERS: dict[tuple[str, str], tuple[str, type]] = {
    ("User", "username"): ("lower(user_name) = lower(%s)", str),
    ("User", "externalid"): ("external_id = %s", str),
    ("User", "displayname"): ("lower(display_name) = lower(%s)", str),
    ("User", "emails.value"): ("lower(email) = lower(%s)", str),
    ("User", "active"): ("active = %s", bool),
    ("User", "id"): ("id = %s", uuid.UUID),
    ("Group", "displayname"): ("lower(display_name) = lower(%s)", str),
    ("Group", "externalid"): ("external_id = %s", str),
    ("Group", "id"): ("id = %s", uuid.UUID),
}


def _conditions(resource_type: ResourceType, comparisons: list[Comparison]) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    core = resource_type.schema.id.lower() + ":"
    for comparison in comparisons:
        name = comparison.attribute.lower().removeprefix(core)
        supported = _FILTERS.get((resource_type.name, name))
        if supported is None:
            names = ", ".join(sorted(a for (kind, a) in _FILTERS if kind == resource_type.name))
            raise invalid(
                f"filtering on {comparison.attribute} is not supported (supported: {names})", "invalidFilter"
            )
        condition, kind = supported
        value = comparison.value
        if kind is uuid.UUID:
            value = _uuid(value) if isinstance(value, str) else None
            if value is None:
                where.append("false")
                continue
        elif not isinstance(value, kind):
            raise invalid(f"{comparison.attribute} compares with a {kind.__name__}", "invalidFilter")
        where.append(condition)
        params.append(value)
    return where, params


def _list(
    ctx: ScimContext,
    conn: Connection,
    resource_type: ResourceType,
    query: Query,
    render: Callable[[ScimContext, Connection, list[dict[str, Any]]], list[dict[str, Any]]],
) -> dict[str, Any]:
    where, params = _conditions(resource_type, parse_filter(query.filter)) if query.filter else ([], [])
    start = max(1, query.start_index)  # RFC 7644 §3.4.2.4: below 1 is 1
    count = min(max(0, query.count), MAX_RESULTS)
    table = "scim_users" if resource_type is USERS else "scim_groups"
    total, rows = repo.list_page(conn, table=table, where=where, params=params, offset=start - 1, count=count)
    resources = [
        project(resource_type, doc, attributes=query.attributes, excluded=query.excluded_attributes)
        for doc in render(ctx, conn, rows)
    ]
    return {
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "itemsPerPage": len(resources),
        "startIndex": start,
        "Resources": resources,
    }


SEARCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"


def _names(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid(f"{field} must be a list of attribute names", "invalidSyntax")
    return ",".join(value)


def search_query(body: Any) -> Query:
    """A POST /.search body (RFC 7644 §3.4.3) as the same query GET takes."""
    if not isinstance(body, dict) or SEARCH_SCHEMA not in (body.get("schemas") or []):
        raise invalid(f"the body must be a {SEARCH_SCHEMA}", "invalidSyntax")
    filter_text, start, count = body.get("filter"), body.get("startIndex", 1), body.get("count", MAX_RESULTS)
    if filter_text is not None and not isinstance(filter_text, str):
        raise invalid("filter must be a string", "invalidFilter")
    if (
        isinstance(start, bool)
        or not isinstance(start, int)
        or isinstance(count, bool)
        or not isinstance(count, int)
    ):
        raise invalid("startIndex and count must be integers")
    return Query(
        filter_text,
        start,
        count,
        _names(body.get("attributes"), "attributes"),
        _names(body.get("excludedAttributes"), "excludedAttributes"),
    )


def list_users(ctx: ScimContext, conn: Connection, query: Query) -> dict[str, Any]:
    return _list(ctx, conn, USERS, query, _users)


def list_groups(ctx: ScimContext, conn: Connection, query: Query) -> dict[str, Any]:
    return _list(ctx, conn, GROUPS, query, _groups)


# Users


def _user_columns(stored: dict[str, Any]) -> dict[str, Any]:
    emails = stored.get("emails") or []
    primary = next((e for e in emails if e.get("primary")), emails[0] if emails else None)
    user_name = stored["userName"]
    email = (primary or {}).get("value") or (user_name if "@" in user_name else None)
    # An absent ``active`` (never sent, or removed) provisions the person, as most IdPs expect.
    active = stored.get("active", True)
    return {
        "user_name": user_name,
        "external_id": stored.get("externalId"),
        "display_name": stored.get("displayName"),
        "email": email,
        "active": True if active is None else active,
    }


def _locked_user(conn: Connection, user_id: str) -> dict[str, Any]:
    key = _uuid(user_id)
    row = repo.get_user(conn, user_id=key, for_update=True) if key else None
    if row is None:
        raise not_found("User")
    return row


def _unique_user_name(action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return action()
    except errors.UniqueViolation as exc:
        raise ScimError("a User with this userName exists", status=409, scim_type="uniqueness") from exc


def get_user(ctx: ScimContext, conn: Connection, user_id: str, query: Query) -> dict[str, Any]:
    key = _uuid(user_id)
    row = repo.get_user(conn, user_id=key) if key else None
    if row is None:
        raise not_found("User")
    (document,) = _users(ctx, conn, [row])
    return project(USERS, document, attributes=query.attributes, excluded=query.excluded_attributes)


def create_user(ctx: ScimContext, conn: Connection, body: Any) -> dict[str, Any]:
    stored = parse_resource(USERS, body)
    columns = _user_columns(stored)
    row = _unique_user_name(
        lambda: repo.insert_user(conn, tenant_id=ctx.tenant_id, columns=columns, attributes=stored)
    )
    _record(ctx, conn, "scim.user.created", "scim_user", row["id"], userName=columns["user_name"])
    if row["active"]:
        _provision(ctx, conn, row, columns["email"])
    (document,) = _users(ctx, conn, [repo.get_user(conn, user_id=row["id"]) or row])
    return document


def _save_user(
    ctx: ScimContext, conn: Connection, row: dict[str, Any], stored: dict[str, Any]
) -> dict[str, Any]:
    columns = _user_columns(stored)
    updated = _unique_user_name(
        lambda: repo.update_user(conn, user_id=row["id"], columns=columns, attributes=stored)
    )
    _record(ctx, conn, "scim.user.updated", "scim_user", row["id"], active=columns["active"])
    if row["active"] and not updated["active"]:
        _deprovision(ctx, conn, row)
    elif updated["active"] and (not row["active"] or row["membership_id"] is None):
        _provision(ctx, conn, updated, columns["email"])
    (document,) = _users(ctx, conn, [repo.get_user(conn, user_id=row["id"]) or updated])
    return document


def replace_user(ctx: ScimContext, conn: Connection, user_id: str, body: Any) -> dict[str, Any]:
    row = _locked_user(conn, user_id)
    return _save_user(ctx, conn, row, parse_resource(USERS, body))


def patch_user(ctx: ScimContext, conn: Connection, user_id: str, body: Any) -> dict[str, Any]:
    row = _locked_user(conn, user_id)
    return _save_user(ctx, conn, row, apply(USERS, dict(row["attributes"]), body))


def delete_user(ctx: ScimContext, conn: Connection, user_id: str) -> None:
    row = _locked_user(conn, user_id)
    if row["membership_id"] is not None:
        _deprovision(ctx, conn, row)
    repo.delete_user(conn, user_id=row["id"])
    _record(ctx, conn, "scim.user.deleted", "scim_user", row["id"])


# Provisioning: the membership a SCIM user stands for


def _provision(ctx: ScimContext, conn: Connection, row: dict[str, Any], email: str | None) -> None:
    if row["user_id"] is None and email is None:
        return  # no e-mail to invite and no person known: the SCIM user exists, and grants nothing
    found = repo.find_membership(conn, platform_user_id=row["user_id"], email=email)
    if found is not None:
        repo.link_user(conn, user_id=row["id"], membership_id=found["id"], platform_user_id=found["user_id"])
    else:
        if ctx.max_members is not None and members_repo.count(conn) >= ctx.max_members:
            raise ScimError(f"the tenant's plan allows {ctx.max_members} members", status=403)
        role_id = repo.role_id_by_key(conn, key=DEFAULT_ROLE)
        assert role_id is not None
        if row["user_id"] is not None:
            membership_id = members_repo.insert_active(
                conn, tenant_id=ctx.tenant_id, user_id=row["user_id"], role_id=role_id
            )
        else:
            assert email is not None
            membership_id = members_repo.insert_invitation(
                conn, tenant_id=ctx.tenant_id, email=email, role_id=role_id, invited_by=ctx.token_creator
            )["id"]
        repo.link_user(conn, user_id=row["id"], membership_id=membership_id, platform_user_id=None)
        _record(ctx, conn, "member.provisioned", "member", membership_id, email=email, role=DEFAULT_ROLE)
    sync_roles(conn, ctx.actor, [row["id"]])


def _deprovision(ctx: ScimContext, conn: Connection, row: dict[str, Any]) -> None:
    membership_id = row["membership_id"]
    member = repo.membership(conn, membership_id=membership_id) if membership_id else None
    if member is None:
        return
    if member["role"] == "owner" and member["status"] == "active" and members_repo.count_owners(conn) <= 1:
        raise ScimError(
            "the tenant's last owner cannot be deprovisioned; make someone else owner first", status=409
        )
    members_repo.delete(conn, member_id=member["id"])
    if member["user_id"] is not None:
        members_repo.revoke_user_sessions(conn, user_id=member["user_id"])
    repo.link_user(conn, user_id=row["id"], membership_id=None, platform_user_id=member["user_id"])
    _record(
        ctx,
        conn,
        "member.deprovisioned",
        "member",
        member["id"],
        user_id=member["user_id"],
        role=member["role"],
    )


def _wanted_role(row: dict[str, Any], default: uuid.UUID | None) -> uuid.UUID | None:
    """A mapped group decides; with none, a role SCIM granted is taken back and any other is left alone."""
    mapped: uuid.UUID | None = row["mapped_role_id"]
    if mapped is not None:
        return mapped
    if row["granted_role_id"] is not None and row["granted_role_id"] == row["role_id"]:
        return default
    return None


def sync_roles(conn: Connection, actor: AuditActor, scim_user_ids: list[uuid.UUID]) -> None:
    """Give each provisioned member the role their groups map to (owners excepted, see _wanted_role)."""
    if not scim_user_ids:
        return
    default = repo.role_id_by_key(conn, key=DEFAULT_ROLE)
    for row in repo.mapped_roles(conn, user_ids=scim_user_ids):
        wanted = _wanted_role(row, default)
        if row["role"] == "owner" or wanted is None or wanted == row["role_id"]:
            continue
        updated = members_repo.set_role(conn, member_id=row["membership_id"], role_id=wanted)
        repo.set_granted_role(
            conn, user_id=row["scim_user_id"], role_id=wanted if row["mapped_role_id"] is not None else None
        )
        audit.record(
            conn,
            actor,
            action="member.role_changed",
            resource_type="member",
            resource_id=row["membership_id"],
            before={"role": row["role"]},
            after={"role": updated["role"], "via": "scim group mapping"},
        )


# Groups


def _group_fields(stored: dict[str, Any]) -> tuple[dict[str, Any], list[uuid.UUID]]:
    members = stored.pop("members", None) or []
    ids: list[uuid.UUID] = []
    for member in members:
        key = _uuid(str(member.get("value", "")))
        if key is None or member.get("type", "User") != "User":
            raise invalid("group members must be Users of this tenant, by id")
        if key not in ids:
            ids.append(key)
    return stored, ids


def _locked_group(conn: Connection, group_id: str) -> dict[str, Any]:
    key = _uuid(group_id)
    row = repo.get_group(conn, group_id=key, for_update=True) if key else None
    if row is None:
        raise not_found("Group")
    return row


def _unique_group(action: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return action()
    except errors.UniqueViolation as exc:
        raise ScimError("a Group with this displayName exists", status=409, scim_type="uniqueness") from exc


def _set_members(
    ctx: ScimContext, conn: Connection, group_id: uuid.UUID, wanted: list[uuid.UUID]
) -> list[uuid.UUID]:
    """Make the group's members ``wanted``; the users whose groups changed."""
    unknown = set(wanted) - repo.existing_users(conn, user_ids=wanted)
    if unknown:
        raise invalid(f"no User {sorted(map(str, unknown))[0]} in this tenant")
    current = set(repo.group_user_ids(conn, group_id=group_id))
    added, removed = [u for u in wanted if u not in current], [u for u in current if u not in set(wanted)]
    if added:
        repo.add_members(conn, tenant_id=ctx.tenant_id, group_id=group_id, user_ids=added)
    if removed:
        repo.remove_members(conn, group_id=group_id, user_ids=removed)
    return added + removed


def get_group(ctx: ScimContext, conn: Connection, group_id: str, query: Query) -> dict[str, Any]:
    key = _uuid(group_id)
    row = repo.get_group(conn, group_id=key) if key else None
    if row is None:
        raise not_found("Group")
    (document,) = _groups(ctx, conn, [row])
    return project(GROUPS, document, attributes=query.attributes, excluded=query.excluded_attributes)


def create_group(ctx: ScimContext, conn: Connection, body: Any) -> dict[str, Any]:
    stored, member_ids = _group_fields(parse_resource(GROUPS, body))
    row = _unique_group(
        lambda: repo.insert_group(
            conn,
            tenant_id=ctx.tenant_id,
            display_name=stored["displayName"],
            external_id=stored.get("externalId"),
            attributes=stored,
        )
    )
    changed = _set_members(ctx, conn, row["id"], member_ids)
    _record(ctx, conn, "scim.group.created", "scim_group", row["id"], displayName=stored["displayName"])
    sync_roles(conn, ctx.actor, changed)
    (document,) = _groups(ctx, conn, [row])
    return document


def _save_group(
    ctx: ScimContext, conn: Connection, row: dict[str, Any], stored: dict[str, Any]
) -> dict[str, Any]:
    stored, member_ids = _group_fields(stored)
    updated = _unique_group(
        lambda: repo.update_group(
            conn,
            group_id=row["id"],
            display_name=stored["displayName"],
            external_id=stored.get("externalId"),
            attributes=stored,
        )
    )
    changed = _set_members(ctx, conn, row["id"], member_ids)
    _record(ctx, conn, "scim.group.updated", "scim_group", row["id"], members_changed=len(changed))
    sync_roles(conn, ctx.actor, changed)
    (document,) = _groups(ctx, conn, [updated])
    return document


def replace_group(ctx: ScimContext, conn: Connection, group_id: str, body: Any) -> dict[str, Any]:
    row = _locked_group(conn, group_id)
    return _save_group(ctx, conn, row, parse_resource(GROUPS, body))


def patch_group(ctx: ScimContext, conn: Connection, group_id: str, body: Any) -> dict[str, Any]:
    row = _locked_group(conn, group_id)
    current = dict(row["attributes"])
    members = [{"value": str(u)} for u in repo.group_user_ids(conn, group_id=row["id"])]
    if members:
        current["members"] = members
    return _save_group(ctx, conn, row, apply(GROUPS, current, body))


def delete_group(ctx: ScimContext, conn: Connection, group_id: str) -> None:
    row = _locked_group(conn, group_id)
    affected = repo.group_user_ids(conn, group_id=row["id"])
    repo.delete_group(conn, group_id=row["id"])
    _record(ctx, conn, "scim.group.deleted", "scim_group", row["id"])
    sync_roles(conn, ctx.actor, affected)
