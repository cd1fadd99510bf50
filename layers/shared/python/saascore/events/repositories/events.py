"""The `events` table: insert (append-only) and read."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from saascore.db.connection import Connection


def insert_event(
    conn: Connection,
    *,
    tenant_id: UUID,
    type: str,
    version: int,
    data: dict[str, Any],
    actor_type: str,
    actor_user_id: UUID | None,
    request_id: str | None,
) -> tuple[UUID, datetime]:
    row = conn.execute(
        "INSERT INTO events (tenant_id, type, version, data, actor_type, actor_user_id, request_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id, occurred_at",
        (tenant_id, type, version, Jsonb(data), actor_type, actor_user_id, request_id),
    ).fetchone()
    assert row is not None
    return row["id"], row["occurred_at"]


def get_event(conn: Connection, *, event_id: UUID) -> dict[str, Any] | None:
    row: dict[str, Any] | None = conn.execute(
        "SELECT id, tenant_id, type, version, data, occurred_at FROM events WHERE id = %s", (event_id,)
    ).fetchone()
    return row


def has_subscriber(conn: Connection, *, event_type: str) -> bool:
    """Whether an enabled endpoint of the current tenant wants this type (no filter = every type)."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE status = 'enabled' "
        "AND (cardinality(event_types) = 0 OR %s = ANY(event_types))) AS found",
        (event_type,),
    ).fetchone()
    return bool(row and row["found"])
