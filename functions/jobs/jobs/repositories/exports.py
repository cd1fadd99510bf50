"""Who asked for a tenant export (tenant transaction)."""

from __future__ import annotations

from uuid import UUID

from saascore.db.connection import Connection


def member_email(conn: Connection, *, user_id: UUID) -> str | None:
    """The address of an active member of the transaction's tenant (None once they left)."""
    row = conn.execute(
        "SELECT u.email FROM memberships m JOIN users u ON u.id = m.user_id"
        " WHERE m.user_id = %s AND m.status = 'active'",
        (user_id,),
    ).fetchone()
    return None if row is None else str(row["email"])
