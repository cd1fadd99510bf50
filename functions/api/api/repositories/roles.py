"""Roles of a tenant (system and custom) with their permission ids; the global permission catalogue."""

from __future__ import annotations

import uuid
from typing import Any

from saascore.db.connection import Connection

COLUMNS = """r.id, r.key, r.name, r.is_system, r.created_at, r.updated_at,
    ARRAY(SELECT rp.permission_id FROM role_permissions rp WHERE rp.role_id = r.id ORDER BY 1) AS permissions"""


def list_all(conn: Connection) -> list[dict[str, Any]]:
    return conn.execute(f"SELECT {COLUMNS} FROM roles r ORDER BY r.is_system DESC, r.key").fetchall()


def get(conn: Connection, *, role_id: uuid.UUID, for_update: bool = False) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    return conn.execute(f"SELECT {COLUMNS} FROM roles r WHERE r.id = %s{lock}", (role_id,)).fetchone()


def get_by_key(conn: Connection, *, key: str) -> dict[str, Any] | None:
    return conn.execute(f"SELECT {COLUMNS} FROM roles r WHERE r.key = %s", (key,)).fetchone()


def catalogue(conn: Connection) -> list[dict[str, Any]]:
    return conn.execute("SELECT id, resource, action, description FROM permissions ORDER BY id").fetchall()


def unknown_permissions(conn: Connection, *, permissions: list[str]) -> list[str]:
    rows = conn.execute(
        "SELECT p FROM unnest(%s::text[]) AS p WHERE p NOT IN (SELECT id FROM permissions)", (permissions,)
    ).fetchall()
    return [row["p"] for row in rows]


def insert(conn: Connection, *, tenant_id: uuid.UUID, key: str, name: str) -> uuid.UUID:
    row = conn.execute(
        "INSERT INTO roles (tenant_id, key, name) VALUES (%s, %s, %s) RETURNING id", (tenant_id, key, name)
    ).fetchone()
    assert row is not None
    return uuid.UUID(str(row["id"]))


def set_permissions(
    conn: Connection, *, tenant_id: uuid.UUID, role_id: uuid.UUID, permissions: list[str]
) -> None:
    conn.execute("DELETE FROM role_permissions WHERE role_id = %s", (role_id,))
    conn.execute(
        "INSERT INTO role_permissions (tenant_id, role_id, permission_id) SELECT %s, %s, unnest(%s::text[])",
        (tenant_id, role_id, permissions),
    )


def rename(conn: Connection, *, role_id: uuid.UUID, name: str) -> None:
    conn.execute("UPDATE roles SET name = %s WHERE id = %s", (name, role_id))


def in_use(conn: Connection, *, role_id: uuid.UUID) -> bool:
    return (
        conn.execute("SELECT 1 FROM memberships WHERE role_id = %s LIMIT 1", (role_id,)).fetchone()
        is not None
    )


def delete(conn: Connection, *, role_id: uuid.UUID) -> None:
    conn.execute("DELETE FROM roles WHERE id = %s", (role_id,))
