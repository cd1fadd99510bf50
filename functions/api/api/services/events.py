"""Domain events: API writes record facts in the tenant's event log in the request's transaction
(``saascore.events.record_event``; delivery rides the jobs outbox after the commit, ``api.deps``), and
the log is read back newest first (``GET /api/v2/events``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.repositories import events as repo
from api.schemas.common import Page
from api.schemas.events import Event
from api.services.audit import AuditActor
from api.services.pagination import encode_cursor, keyset_after
from saascore.db.connection import Connection
from saascore.events import Actor, record_event


def emit(conn: Connection, actor: AuditActor, type: str, data: Mapping[str, Any]) -> None:
    record_event(
        conn,
        tenant_id=actor.tenant_id,
        type=type,
        data=data,
        actor=Actor(
            "user" if actor.user_id is not None else "system",
            user_id=actor.user_id,
            request_id=actor.request_id,
        ),
    )


def list_events(conn: Connection, *, type: str | None, limit: int, cursor: str | None) -> Page[Event]:
    scope = {"list": "events", "type": type}
    rows = repo.list_page(conn, type=type, limit=limit, after=keyset_after(cursor, scope))
    items = [Event.model_validate(row) for row in rows[:limit]]
    next_cursor = (
        encode_cursor([items[-1].occurred_at.isoformat(), str(items[-1].id)], scope)
        if len(rows) > limit
        else None
    )
    return Page[Event](items=items, next_cursor=next_cursor)
