"""Audit log rows (append-only for the application role)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from saascore.db.connection import Connection

INSERT_SQL = """
INSERT INTO audit_logs (tenant_id, actor_type, actor_user_id, actor_api_key_id, action, resource_type,
                        resource_id, before, after, request_id, ip, user_agent)
VALUES (%(tenant_id)s, %(actor_type)s, %(actor_user_id)s, %(actor_api_key_id)s, %(action)s, %(resource_type)s, %(resource_id)s,
        %(before)s, %(after)s, %(request_id)s, %(ip)s, %(user_agent)s)
"""

LIST_COLUMNS = (
    "id, actor_type, actor_user_id, actor_api_key_id, action, resource_type, resource_id, before, after, request_id, "
    "host(ip) AS ip, user_agent, created_at"
)


def insert(
    conn: Connection,
    *,
    tenant_id: uuid.UUID,
    actor_type: str,
    actor_user_id: uuid.UUID | None,
    action: str,
    resource_type: str,
    resource_id: str | None,
    actor_api_key_id: uuid.UUID | None = None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    request_id: str | None,
    ip: str | None,
    user_agent: str | None,
) -> None:
    conn.execute(
        INSERT_SQL,
        {
            "tenant_id": tenant_id,
            "actor_type": actor_type,
            "actor_user_id": actor_user_id,
            "actor_api_key_id": actor_api_key_id,
            "action": action,
            "resource_type": resource_type,
            "resource_id": resource_id,
            "before": None if before is None else Jsonb(before),
            "after": None if after is None else Jsonb(after),
            "request_id": request_id,
            "ip": ip,
            "user_agent": user_agent,
        },
    )


def list_page(
    conn: Connection,
    *,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
    action: str | None,
    resource_type: str | None,
    resource_id: str | None,
    actor_user_id: uuid.UUID | None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """Newest first, keyset on (created_at, id); ``limit + 1`` rows tell whether a next page exists."""
    clauses = ["true"]
    params: dict[str, Any] = {"limit": limit + 1}
    for column, value in (
        ("action", action),
        ("resource_type", resource_type),
        ("resource_id", resource_id),
        ("actor_user_id", actor_user_id),
    ):
        if value is not None:
            clauses.append(f"{column} = %({column})s")
            params[column] = value
    if since is not None:
        clauses.append("created_at >= %(since)s")
        params["since"] = since
    if until is not None:
        clauses.append("created_at < %(until)s")
        params["until"] = until
    if after is not None:
        clauses.append("(created_at, id) < (%(after_at)s, %(after_id)s)")
        params["after_at"], params["after_id"] = after
    sql = (
        f"SELECT {LIST_COLUMNS} FROM audit_logs WHERE {' AND '.join(clauses)} "
        "ORDER BY created_at DESC, id DESC LIMIT %(limit)s"
    )
    return conn.execute(sql, params).fetchall()
