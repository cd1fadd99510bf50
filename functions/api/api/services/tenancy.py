"""The tenant's profile and /me (who the caller is, in which tenants, with which flags)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from api.exceptions import NotFoundError
from api.repositories import directory
from api.repositories import tenants as tenants_repo
from api.schemas.tenancy import (
    Me,
    MeTenant,
    MeUser,
    Tenant,
    TenantUpdate,
)
from api.services import audit
from api.services.access import Access
from api.services.audit import AuditActor
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
