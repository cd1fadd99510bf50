"""Memberships (active members and pending invitations) and the caller-visible user fields."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from saascore.db.connection import Connection

COLUMNS = """m.id, m.user_id, u.email, u.display_name, r.key AS role, m.role_id, m.status, m.invited_email,
    m.created_at, m.updated_at"""
FROM = "memberships m JOIN roles r ON r.id = m.role_id LEFT JOIN users u ON u.id = m.user_id"


def insert_active(
    conn: Connection, *, tenant_id: uuid.UUID, user_id: uuid.UUID, role_id: uuid.UUID
) -> uuid.UUID:
    row = conn.execute(
        "INSERT INTO memberships (tenant_id, user_id, role_id, status) VALUES (%s, %s, %s, 'active') RETURNING id",
        (tenant_id, user_id, role_id),
    ).fetchone()
    assert row is not None
    return uuid.UUID(str(row["id"]))


def insert_invitation(
    conn: Connection, *, tenant_id: uuid.UUID, email: str, role_id: uuid.UUID, invited_by: uuid.UUID
) -> dict[str, Any]:
    row = conn.execute(
        "INSERT INTO memberships (tenant_id, role_id, status, invited_email, invited_by) "
        "VALUES (%s, %s, 'invited', %s, %s) RETURNING id",
        (tenant_id, role_id, email, invited_by),
    ).fetchone()
    assert row is not None
    found = get(conn, member_id=row["id"])
    assert found is not None
    return found


def get(conn: Connection, *, member_id: uuid.UUID, for_update: bool = False) -> dict[str, Any] | None:
    lock = " FOR UPDATE OF m" if for_update else ""
    return conn.execute(f"SELECT {COLUMNS} FROM {FROM} WHERE m.id = %s{lock}", (member_id,)).fetchone()


def email_is_member(conn: Connection, *, email: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM memberships m LEFT JOIN users u ON u.id = m.user_id "
        "WHERE lower(u.email) = lower(%(e)s) OR (m.status = 'invited' AND lower(m.invited_email) = lower(%(e)s))",
        {"e": email},
    ).fetchone()
    return row is not None


def count(conn: Connection) -> int:
    row = conn.execute("SELECT count(*) AS n FROM memberships").fetchone()
    return int(row["n"]) if row else 0


def count_owners(conn: Connection) -> int:
    row = conn.execute(
        "SELECT count(*) AS n FROM memberships m JOIN roles r ON r.id = m.role_id "
        "WHERE r.key = 'owner' AND m.status = 'active'"
    ).fetchone()
    return int(row["n"]) if row else 0


def set_role(conn: Connection, *, member_id: uuid.UUID, role_id: uuid.UUID) -> dict[str, Any]:
    conn.execute("UPDATE memberships SET role_id = %s WHERE id = %s", (role_id, member_id))
    row = get(conn, member_id=member_id)
    assert row is not None
    return row


def delete(conn: Connection, *, member_id: uuid.UUID) -> None:
    conn.execute("DELETE FROM memberships WHERE id = %s", (member_id,))


def revoke_user_sessions(conn: Connection, *, user_id: uuid.UUID) -> None:
    conn.execute(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = 'membership ended' "
        "WHERE user_id = %s AND revoked_at IS NULL",
        (user_id,),
    )


def list_page(
    conn: Connection, *, limit: int, after: tuple[datetime, uuid.UUID] | None
) -> list[dict[str, Any]]:
    keyset = "WHERE (m.created_at, m.id) > (%(at)s, %(id)s)" if after else ""
    params: dict[str, Any] = {"limit": limit + 1}
    if after:
        params["at"], params["id"] = after
    sql = f"SELECT {COLUMNS} FROM {FROM} {keyset} ORDER BY m.created_at, m.id LIMIT %(limit)s"
    return conn.execute(sql, params).fetchall()
