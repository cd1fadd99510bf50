"""Plain SQL of the housekeeping jobs: chunked deletes, the purge's audit row, the view refresh."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from saascore.db.connection import Connection


def delete_chunk(
    conn: Connection,
    *,
    table: str,
    key: str,
    tenant_id: UUID,
    condition: str,
    params: tuple[Any, ...],
    limit: int,
) -> int:
    """Delete at most ``limit`` of the tenant's rows of ``table`` matching ``condition``; returns how many.

    ``table``, ``key`` and ``condition`` are constants of the calling job, never input.
    """
    return conn.execute(
        f"DELETE FROM {table} WHERE {key} IN "
        f"(SELECT {key} FROM {table} WHERE tenant_id = %s AND {condition} LIMIT %s)",
        (tenant_id, *params, limit),
    ).rowcount


def record_purge(conn: Connection, *, tenant_id: UUID, details: dict[str, Any], request_id: str) -> None:
    conn.execute(
        "INSERT INTO audit_logs (tenant_id, actor_type, action, resource_type, after, request_id) "
        "VALUES (%s, 'system', 'purge.soft_deleted', 'tenant', %s, %s)",
        (tenant_id, Jsonb(details), request_id),
    )


def refresh_usage_views(conn: Connection) -> None:
    # REFRESH needs the view's owner: app.refresh_usage_views() is SECURITY DEFINER (migration 0301).
    conn.execute("SELECT app.refresh_usage_views()")


def refresh_business_views(conn: Connection) -> dict[str, Any]:
    """Refresh the business views (migration 0400); the last complete UTC day's sign-ups and first payments."""
    row = conn.execute("SELECT day, signups, first_payments FROM app.refresh_business_views()").fetchone()
    return dict(row) if row else {}
