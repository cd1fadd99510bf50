"""Usage events: plain SQL in the caller's tenant transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from saascore.db.connection import Connection

EVENT_COLUMNS = "id, meter, quantity, idempotency_key, occurred_at, created_at"


def serialize_recording(conn: Connection, *, tenant_id: uuid.UUID) -> None:
    """Transaction-scoped, so concurrent requests of one tenant cannot both slip past the hard limit."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('usage:' || %s::text, 0))", (tenant_id,))


def event_by_key(conn: Connection, *, tenant_id: uuid.UUID, idempotency_key: str) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM usage_events WHERE tenant_id = %s AND idempotency_key = %s",
        (tenant_id, idempotency_key),
    ).fetchone()


def insert_event(
    conn: Connection,
    *,
    tenant_id: uuid.UUID,
    meter: str,
    quantity: int,
    idempotency_key: str,
    user_id: uuid.UUID | None,
) -> dict[str, Any]:
    event = conn.execute(
        "INSERT INTO usage_events (tenant_id, meter, quantity, idempotency_key, recorded_by) "
        f"VALUES (%s, %s, %s, %s, %s) RETURNING {EVENT_COLUMNS}",
        (tenant_id, meter, quantity, idempotency_key, user_id),
    ).fetchone()
    assert event is not None
    return event


def used_units(conn: Connection, *, tenant_id: uuid.UUID, since: datetime) -> int:
    row = conn.execute(
        "SELECT coalesce(sum(quantity), 0)::bigint AS used FROM usage_events WHERE tenant_id = %s AND occurred_at >= %s",
        (tenant_id, since),
    ).fetchone()
    return int(row["used"]) if row else 0


def monthly_totals(conn: Connection) -> list[dict[str, Any]]:
    """The current tenant's monthly totals from the reporting view (as of its last refresh)."""
    return conn.execute("SELECT meter, month, quantity, events FROM app.tenant_usage_monthly()").fetchall()
