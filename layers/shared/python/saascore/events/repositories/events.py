"""The `events` table: insert (append-only) and read."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from saascore.db.connection import Connection


def insert_event(
    conn: Connection,
    *,
    event_id: UUID,
    tenant_id: UUID,
    type: str,
    version: int,
    data: dict[str, Any],
    actor_type: str,
    actor_user_id: UUID | None,
    request_id: str | None,
) -> bool | None:
    """Append the event; returns whether an enabled endpoint of the tenant subscribes to its type (no
    filter = every type), answered by the same statement to spare a round trip, or None when an event
    with this id is already recorded (nothing appended)."""
    row = conn.execute(
        "INSERT INTO events (id, tenant_id, type, version, data, actor_type, actor_user_id, request_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING "
        "RETURNING EXISTS (SELECT 1 FROM webhook_endpoints w WHERE w.status = 'enabled' "
        "AND (cardinality(w.event_types) = 0 OR events.type = ANY(w.event_types))) AS subscribed",
        (event_id, tenant_id, type, version, Jsonb(data), actor_type, actor_user_id, request_id),
    ).fetchone()
    return None if row is None else bool(row["subscribed"])


def append_event(
    conn: Connection,
    *,
    event_id: UUID,
    tenant_id: UUID,
    type: str,
    version: int,
    data: dict[str, Any],
    actor_type: str,
    actor_user_id: UUID | None,
    request_id: str | None,
) -> None:
    """Append the event and read nothing back: in a pipelined transaction it travels with the next flight."""
    conn.execute(
        "INSERT INTO events (id, tenant_id, type, version, data, actor_type, actor_user_id, request_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (event_id, tenant_id, type, version, Jsonb(data), actor_type, actor_user_id, request_id),
    )


def get_event(conn: Connection, *, event_id: UUID) -> dict[str, Any] | None:
    row: dict[str, Any] | None = conn.execute(
        "SELECT id, tenant_id, type, version, data, occurred_at FROM events WHERE id = %s", (event_id,)
    ).fetchone()
    return row
