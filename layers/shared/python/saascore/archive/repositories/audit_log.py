"""Plain SQL of the audit-log export: keyset pages in ``(created_at, id)`` order, and where a capped
response has to stop. Run in the tenant's context (RLS); read-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from saascore.db.connection import Connection

Key = tuple[datetime, UUID]

COLUMNS = (
    "id, tenant_id, created_at, actor_type, actor_user_id, actor_api_key_id, action, resource_type,"
    " resource_id, before, after, request_id, host(ip) AS ip, user_agent"
)
_WINDOW = (
    "created_at >= %(since)s AND created_at < %(until)s"
    " AND (%(start_at)s::timestamptz IS NULL OR (created_at, id) >= (%(start_at)s, %(start_id)s::uuid))"
)


def _params(since: datetime, until: datetime, start: Key | None) -> dict[str, Any]:
    start_at, start_id = start if start is not None else (None, None)
    return {"since": since, "until": until, "start_at": start_at, "start_id": start_id}


def page(
    conn: Connection,
    *,
    since: datetime,
    until: datetime,
    start: Key | None,
    after: Key | None,
    stop: Key | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Up to ``limit`` entries of ``[since, until)`` from ``start`` on, after ``after``, before ``stop``."""
    params = _params(since, until, start)
    clauses = [_WINDOW]
    if after is not None:
        clauses.append("(created_at, id) > (%(after_at)s, %(after_id)s)")
        params["after_at"], params["after_id"] = after
    if stop is not None:
        clauses.append("(created_at, id) < (%(stop_at)s, %(stop_id)s)")
        params["stop_at"], params["stop_id"] = stop
    params["limit"] = limit
    return conn.execute(
        f"SELECT {COLUMNS} FROM audit_logs WHERE {' AND '.join(clauses)}"
        " ORDER BY created_at, id LIMIT %(limit)s",
        params,
    ).fetchall()


def stop_key(
    conn: Connection, *, since: datetime, until: datetime, start: Key | None, max_rows: int, max_bytes: int
) -> Key | None:
    """The first entry that would take a response past ``max_rows`` entries or about ``max_bytes`` (the
    JSON text of the rows; never the first entry, so every response makes progress); None when the rest
    of the window fits. Reads at most ``max_rows + 1`` entries."""
    params = {**_params(since, until, start), "scan": max_rows + 1, "rows": max_rows, "bytes": max_bytes}
    row = conn.execute(
        "SELECT created_at, id FROM ("
        " SELECT created_at, id, row_number() OVER w AS n,"
        "  sum(octet_length(row_to_json(t)::text) + 1) OVER w AS bytes"
        f" FROM (SELECT {COLUMNS} FROM audit_logs WHERE {_WINDOW}"
        "  ORDER BY created_at, id LIMIT %(scan)s) t"
        " WINDOW w AS (ORDER BY created_at, id)) s"
        " WHERE n > 1 AND (n > %(rows)s OR bytes > %(bytes)s)"
        " ORDER BY created_at, id LIMIT 1",
        params,
    ).fetchone()
    return None if row is None else (row["created_at"], row["id"])
