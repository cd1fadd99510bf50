"""SQL of webhook fan-out and delivery, in the caller's tenant transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from saascore.db.connection import Connection

DELIVERY_COLUMNS = (
    "d.id, d.tenant_id, d.endpoint_id, d.event_id, d.status, d.attempts, d.next_attempt_at, d.retry_until, "
    "d.locked_until"
)


def create_deliveries(conn: Connection, *, event_id: UUID, event_type: str, retry_until: datetime) -> None:
    """One pending delivery per enabled endpoint that wants the type; an existing one is kept."""
    conn.execute(
        "INSERT INTO webhook_deliveries (tenant_id, endpoint_id, event_id, event_type, next_attempt_at, "
        "retry_until) "
        "SELECT e.tenant_id, e.id, %s, %s, now(), %s FROM webhook_endpoints e "
        "WHERE e.status = 'enabled' AND (cardinality(e.event_types) = 0 OR %s = ANY(e.event_types)) "
        "ON CONFLICT (tenant_id, endpoint_id, event_id) DO NOTHING",
        (event_id, event_type, retry_until, event_type),
    )


def due_deliveries(
    conn: Connection, *, event_id: UUID, delivery_id: UUID | None
) -> list[tuple[UUID, datetime]]:
    """(id, next_attempt_at) of the event's pending deliveries (or the one named)."""
    rows = conn.execute(
        "SELECT id, next_attempt_at FROM webhook_deliveries WHERE event_id = %s AND status = 'pending' "
        "AND next_attempt_at IS NOT NULL AND (%s::uuid IS NULL OR id = %s::uuid) ORDER BY id",
        (event_id, delivery_id, delivery_id),
    ).fetchall()
    return [(row["id"], row["next_attempt_at"]) for row in rows]


def get_delivery(conn: Connection, *, delivery_id: UUID) -> dict[str, Any] | None:
    row: dict[str, Any] | None = conn.execute(
        f"SELECT {DELIVERY_COLUMNS}, e.url, e.status AS endpoint_status "
        "FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.id = %s",
        (delivery_id,),
    ).fetchone()
    return row


def claim_delivery(
    conn: Connection, *, delivery_id: UUID, due: datetime, lock_seconds: int
) -> dict[str, Any] | None:
    """Lock a pending delivery for one attempt if this message is its schedule (`due`) and no live lock."""
    row: dict[str, Any] | None = conn.execute(
        "UPDATE webhook_deliveries d SET attempts = attempts + 1, "
        "locked_until = now() + make_interval(secs => %s) "
        "FROM webhook_endpoints e "
        "WHERE d.id = %s AND e.id = d.endpoint_id AND e.status = 'enabled' AND d.status = 'pending' "
        "AND d.next_attempt_at = %s AND d.next_attempt_at <= now() "
        "AND (d.locked_until IS NULL OR d.locked_until < now()) "
        f"RETURNING {DELIVERY_COLUMNS}, e.url",
        (lock_seconds, delivery_id, due),
    ).fetchone()
    return row


def live_secrets(conn: Connection, *, endpoint_id: UUID) -> list[bytes]:
    rows = conn.execute(
        "SELECT ciphertext FROM webhook_endpoint_secrets WHERE endpoint_id = %s "
        "AND (expires_at IS NULL OR expires_at > now()) ORDER BY created_at DESC",
        (endpoint_id,),
    ).fetchall()
    return [bytes(row["ciphertext"]) for row in rows]


def record_attempt(
    conn: Connection,
    *,
    delivery_id: UUID,
    status: str,
    next_attempt_at: datetime | None,
    status_code: int | None,
    error: str | None,
    duration_ms: int | None,
) -> None:
    conn.execute(
        "UPDATE webhook_deliveries SET status = %s, next_attempt_at = %s, locked_until = NULL, "
        "last_attempt_at = now(), last_status_code = %s, last_error = left(%s, 500), last_duration_ms = %s, "
        "delivered_at = CASE WHEN %s = 'succeeded' THEN now() ELSE delivered_at END WHERE id = %s",
        (status, next_attempt_at, status_code, error, duration_ms, status, delivery_id),
    )


def fail_delivery(conn: Connection, *, delivery_id: UUID, error: str) -> None:
    """End a pending delivery without an attempt (its endpoint is disabled)."""
    conn.execute(
        "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, locked_until = NULL, "
        "last_error = left(%s, 500) WHERE id = %s AND status = 'pending'",
        (error, delivery_id),
    )


def endpoint_succeeded(conn: Connection, *, endpoint_id: UUID) -> None:
    conn.execute(
        "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = %s AND failing_since IS NOT NULL",
        (endpoint_id,),
    )


def endpoint_failed(conn: Connection, *, endpoint_id: UUID, disable_after_days: int) -> bool:
    """Mark the endpoint failing (since its first failure after a success); disable it once it has failed
    for `disable_after_days`. True when this call disabled it."""
    row = conn.execute(
        "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, now()), "
        "status = CASE WHEN failing_since < now() - make_interval(days => %s) THEN 'disabled' ELSE status END, "
        "disabled_reason = CASE WHEN failing_since < now() - make_interval(days => %s) THEN 'failing' "
        "ELSE disabled_reason END, "
        "disabled_at = CASE WHEN failing_since < now() - make_interval(days => %s) THEN now() "
        "ELSE disabled_at END "
        "WHERE id = %s AND status = 'enabled' RETURNING status",
        (disable_after_days, disable_after_days, disable_after_days, endpoint_id),
    ).fetchone()
    return row is not None and row["status"] == "disabled"


def audit_disabled(conn: Connection, *, tenant_id: UUID, endpoint_id: UUID, url: str, days: int) -> None:
    conn.execute(
        "INSERT INTO audit_logs (tenant_id, actor_type, action, resource_type, resource_id, after, request_id) "
        "VALUES (%s, 'system', 'webhook_endpoint.disabled', 'webhook_endpoint', %s, "
        "jsonb_build_object('status', 'disabled', 'reason', 'failing', 'failing_days', %s::int, 'url', %s::text), "
        "'webhook-delivery')",
        (tenant_id, str(endpoint_id), days, url),
    )
