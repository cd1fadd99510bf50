"""Projects: plain SQL, keyword-only; RLS limits every statement to the transaction's tenant."""

from __future__ import annotations

import uuid
from typing import Any

from saascore.db.connection import Connection

COLUMNS = "id, name, description, status, version, created_by, created_at, updated_at, deleted_at"

# The limit check and the insert are one statement; the caller serialises creates per tenant first.
INSERT_SQL = f"""
INSERT INTO projects (tenant_id, name, description, status, created_by)
SELECT %(tid)s, %(name)s, %(description)s, %(status)s, %(uid)s
WHERE %(max)s::integer IS NULL
   OR (SELECT count(*) FROM projects WHERE deleted_at IS NULL) < %(max)s::integer
RETURNING {COLUMNS}
"""

LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('projects:' || %(tid)s::text, 0))"

# (sort key) -> (ORDER BY, keyset comparison, column of the key)
SORTS: dict[str, tuple[str, str, str]] = {
    "-created_at": (
        "created_at DESC, id DESC",
        "(created_at, id) < (%(k)s::timestamptz, %(kid)s::uuid)",
        "created_at",
    ),
    "created_at": (
        "created_at ASC, id ASC",
        "(created_at, id) > (%(k)s::timestamptz, %(kid)s::uuid)",
        "created_at",
    ),
    "name": ("name ASC, id ASC", "(name, id) > (%(k)s::text, %(kid)s::uuid)", "name"),
    "-name": ("name DESC, id DESC", "(name, id) < (%(k)s::text, %(kid)s::uuid)", "name"),
}


def serialize_creates(conn: Connection, *, tenant_id: uuid.UUID) -> None:
    conn.execute(LOCK_SQL, {"tid": tenant_id})


def insert(
    conn: Connection,
    *,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    name: str,
    description: str,
    status: str,
    max_projects: int | None,
) -> dict[str, Any] | None:
    """The new row, or None when the plan's project limit is reached."""
    params = {
        "tid": tenant_id,
        "uid": user_id,
        "name": name,
        "description": description,
        "status": status,
        "max": max_projects,
    }
    return conn.execute(INSERT_SQL, params).fetchone()


def get(conn: Connection, *, project_id: uuid.UUID, for_update: bool = False) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    return conn.execute(
        f"SELECT {COLUMNS} FROM projects WHERE id = %(id)s{lock}", {"id": project_id}
    ).fetchone()


def update(conn: Connection, *, project_id: uuid.UUID, changes: dict[str, Any]) -> dict[str, Any]:
    assignments = ", ".join(f"{column} = %({column})s" for column in changes)
    sql = f"UPDATE projects SET {assignments}, version = version + 1 WHERE id = %(id)s RETURNING {COLUMNS}"
    row = conn.execute(sql, {**changes, "id": project_id}).fetchone()
    assert row is not None  # the caller holds the row lock
    return row


def set_deleted(conn: Connection, *, project_id: uuid.UUID, deleted: bool) -> dict[str, Any]:
    value = "now()" if deleted else "NULL"
    sql = f"UPDATE projects SET deleted_at = {value}, version = version + 1 WHERE id = %(id)s RETURNING {COLUMNS}"
    row = conn.execute(sql, {"id": project_id}).fetchone()
    assert row is not None
    return row


def count_live(conn: Connection) -> int:
    row = conn.execute("SELECT count(*) AS n FROM projects WHERE deleted_at IS NULL").fetchone()
    return int(row["n"]) if row else 0


def list_page(
    conn: Connection,
    *,
    sort: str,
    limit: int,
    after: list[Any] | None,
    status: str | None,
    name_contains: str | None,
    deleted: bool,
) -> list[dict[str, Any]]:
    order_by, keyset, _ = SORTS[sort]
    clauses = ["deleted_at IS NOT NULL" if deleted else "deleted_at IS NULL"]
    params: dict[str, Any] = {"limit": limit + 1}
    if status is not None:
        clauses.append("status = %(status)s")
        params["status"] = status
    if name_contains:
        escaped = name_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append("name ILIKE %(pattern)s")
        params["pattern"] = f"%{escaped}%"
    if after is not None:
        clauses.append(keyset)
        params["k"], params["kid"] = after
    sql = f"SELECT {COLUMNS} FROM projects WHERE {' AND '.join(clauses)} ORDER BY {order_by} LIMIT %(limit)s"
    return conn.execute(sql, params).fetchall()
