"""Webhook endpoints, their secrets and delivery log: plain SQL, keyword-only; RLS limits every statement
to the transaction's tenant."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from saascore.db.connection import Connection

COLUMNS = (
    "id, url, description, event_types, status, disabled_reason, disabled_at, failing_since, created_at, "
    "updated_at"
)
DELIVERY_COLUMNS = (
    "id, endpoint_id, event_id, event_type, status, attempts, next_attempt_at, last_attempt_at, "
    "last_status_code, last_error, last_duration_ms, delivered_at, created_at"
)
LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('webhook_endpoints:' || %s::text, 0))"
UPDATABLE = frozenset({"url", "description", "event_types"})


def serialize_creates(conn: Connection, *, tenant_id: uuid.UUID) -> None:
    conn.execute(LOCK_SQL, (tenant_id,))


def count(conn: Connection) -> int:
    row = conn.execute("SELECT count(*) AS n FROM webhook_endpoints").fetchone()
    return int(row["n"]) if row else 0


def insert(
    conn: Connection,
    *,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    url: str,
    description: str,
    event_types: list[str],
) -> dict[str, Any]:
    row: dict[str, Any] | None = conn.execute(
        f"INSERT INTO webhook_endpoints (tenant_id, url, description, event_types, created_by) "
        f"VALUES (%s, %s, %s, %s, %s) RETURNING {COLUMNS}",
        (tenant_id, url, description, event_types, user_id),
    ).fetchone()
    assert row is not None
    return row


def get(conn: Connection, *, endpoint_id: uuid.UUID, for_update: bool = False) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    row: dict[str, Any] | None = conn.execute(
        f"SELECT {COLUMNS} FROM webhook_endpoints WHERE id = %s{lock}", (endpoint_id,)
    ).fetchone()
    return row


def list_page(
    conn: Connection, *, limit: int, after: tuple[datetime, uuid.UUID] | None
) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM webhook_endpoints "
        "WHERE (%(k)s::timestamptz IS NULL OR (created_at, id) < (%(k)s::timestamptz, %(kid)s::uuid)) "
        "ORDER BY created_at DESC, id DESC LIMIT %(n)s",
        {"k": after[0] if after else None, "kid": after[1] if after else None, "n": limit + 1},
    ).fetchall()
    return list(rows)


def update(conn: Connection, *, endpoint_id: uuid.UUID, changes: dict[str, Any]) -> dict[str, Any]:
    assert set(changes) <= UPDATABLE | {"status"}
    assignments = [f"{name} = %({name})s" for name in sorted(changes) if name != "status"]
    if "status" in changes:
        enabled = changes["status"] == "enabled"
        assignments.append(
            "status = 'enabled', disabled_reason = NULL, disabled_at = NULL, failing_since = NULL"
            if enabled
            else "status = 'disabled', disabled_reason = 'manual', disabled_at = now()"
        )
    row: dict[str, Any] | None = conn.execute(
        f"UPDATE webhook_endpoints SET {', '.join(assignments)} WHERE id = %(id)s RETURNING {COLUMNS}",
        {**changes, "id": endpoint_id},
    ).fetchone()
    assert row is not None
    return row


def delete(conn: Connection, *, endpoint_id: uuid.UUID) -> None:
    """Hard delete: the secrets and the delivery log go with it (cascades)."""
    conn.execute("DELETE FROM webhook_endpoints WHERE id = %s", (endpoint_id,))


def insert_secret(
    conn: Connection, *, tenant_id: uuid.UUID, endpoint_id: uuid.UUID, secret_id: uuid.UUID, ciphertext: bytes
) -> None:
    conn.execute(
        "INSERT INTO webhook_endpoint_secrets (id, tenant_id, endpoint_id, ciphertext) VALUES (%s, %s, %s, %s)",
        (secret_id, tenant_id, endpoint_id, ciphertext),
    )


def retire_secrets(conn: Connection, *, endpoint_id: uuid.UUID, overlap_seconds: int) -> datetime | None:
    """Before a rotation: drop expired secrets and any previous one still overlapping (two live at most),
    then give the current one `overlap_seconds` more; returns when it stops signing."""
    conn.execute(
        "DELETE FROM webhook_endpoint_secrets WHERE endpoint_id = %s AND expires_at IS NOT NULL",
        (endpoint_id,),
    )
    row = conn.execute(
        "UPDATE webhook_endpoint_secrets SET expires_at = now() + make_interval(secs => %s) "
        "WHERE endpoint_id = %s AND expires_at IS NULL RETURNING expires_at",
        (overlap_seconds, endpoint_id),
    ).fetchone()
    return None if row is None else row["expires_at"]


def list_deliveries(
    conn: Connection,
    *,
    endpoint_id: uuid.UUID,
    status: str | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[dict[str, Any]]:
    rows = conn.execute(
        f"SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE endpoint_id = %(eid)s "
        "AND (%(status)s::text IS NULL OR status = %(status)s::text) "
        "AND (%(k)s::timestamptz IS NULL OR (created_at, id) < (%(k)s::timestamptz, %(kid)s::uuid)) "
        "ORDER BY created_at DESC, id DESC LIMIT %(n)s",
        {
            "eid": endpoint_id,
            "status": status,
            "k": after[0] if after else None,
            "kid": after[1] if after else None,
            "n": limit + 1,
        },
    ).fetchall()
    return list(rows)


def get_delivery(
    conn: Connection, *, endpoint_id: uuid.UUID, delivery_id: uuid.UUID, for_update: bool = False
) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    row: dict[str, Any] | None = conn.execute(
        f"SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = %s AND endpoint_id = %s{lock}",
        (delivery_id, endpoint_id),
    ).fetchone()
    return row


def schedule_redelivery(conn: Connection, *, delivery_id: uuid.UUID) -> dict[str, Any]:
    """One manual attempt now: pending, due now, no automatic retries after it."""
    row: dict[str, Any] | None = conn.execute(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), retry_until = now(), "
        f"locked_until = NULL WHERE id = %s RETURNING {DELIVERY_COLUMNS}",
        (delivery_id,),
    ).fetchone()
    assert row is not None
    return row
