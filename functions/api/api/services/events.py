"""Domain events from API writes: the fact goes into the tenant's event log in the request's transaction
(``saascore.events.record_event``), its delivery rides the jobs outbox after the commit (``api.deps``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.services.audit import AuditActor
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
