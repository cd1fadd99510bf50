"""Plain SQL the report jobs read, each in the caller's tenant transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg.rows import DictRow

from saascore.db.connection import Connection

PROJECTS_PAGE_SQL = (
    "SELECT id, name, description, status, created_at, updated_at FROM projects "
    "WHERE deleted_at IS NULL AND (%(status)s::text IS NULL OR status = %(status)s) "
    "AND (%(after_at)s::timestamptz IS NULL OR (created_at, id) > (%(after_at)s, %(after_id)s::uuid)) "
    "ORDER BY created_at, id LIMIT %(limit)s"
)


def projects_page(
    conn: Connection, *, status: str | None, after: tuple[datetime, Any] | None, limit: int
) -> list[DictRow]:
    """Live projects in (created_at, id) order after the keyset ``after`` (None: from the start)."""
    return conn.execute(
        PROJECTS_PAGE_SQL,
        {
            "status": status,
            "after_at": None if after is None else after[0],
            "after_id": None if after is None else after[1],
            "limit": limit,
        },
    ).fetchall()
