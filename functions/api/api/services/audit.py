"""Audit entries for every write, in the writer's transaction: who, what, before/after diff, where from."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python

from api.repositories import audit as repo
from api.schemas.audit import AuditEntry
from api.schemas.common import Page
from api.services.pagination import encode_cursor, keyset_after
from saascore.db.connection import Connection


def diff(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Only what changed: for an update the changed keys on each side; creates/deletes keep the whole row."""
    old = to_jsonable_python(dict(before)) if before is not None else None
    new = to_jsonable_python(dict(after)) if after is not None else None
    if old is None or new is None:
        return old, new
    changed = sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))
    return {key: old.get(key) for key in changed}, {key: new.get(key) for key in changed}


@dataclass(frozen=True, slots=True)
class AuditActor:
    """Who acts and from where; built per request by ``api.deps.get_actor``."""

    tenant_id: uuid.UUID
    user_id: uuid.UUID | None
    request_id: str | None
    ip: str | None
    user_agent: str | None
    api_key_id: uuid.UUID | None = None


def record(
    conn: Connection,
    actor: AuditActor,
    *,
    action: str,
    resource_type: str,
    resource_id: object | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    old, new = diff(before, after)
    repo.insert(
        conn,
        tenant_id=actor.tenant_id,
        actor_type="user" if actor.user_id is not None else "system",
        actor_user_id=actor.user_id,
        actor_api_key_id=actor.api_key_id,
        action=action,
        resource_type=resource_type,
        resource_id=None if resource_id is None else str(resource_id),
        before=old,
        after=new,
        request_id=actor.request_id,
        ip=actor.ip,
        user_agent=actor.user_agent,
    )


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
    rows = repo.list_page(
        conn,
        limit=limit,
        after=keyset_after(cursor, scope),
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
