"""Cross-tenant look-ups through the SECURITY DEFINER directory functions (migrations 0004, 0100)."""

from __future__ import annotations

import uuid
from typing import Any

from saascore.db.connection import Connection


def upsert_idp_user(
    conn: Connection, *, issuer: str, subject: str, email: str, display_name: str | None
) -> uuid.UUID:
    row = conn.execute(
        "SELECT app.upsert_idp_user(%s, %s, %s, %s) AS id", (issuer, subject, email, display_name)
    ).fetchone()
    assert row is not None
    return uuid.UUID(str(row["id"]))


def user_tenants(conn: Connection, *, user_id: uuid.UUID) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT tenant_id, name, slug, role_key, status FROM app.user_tenants(%s)", (user_id,)
    ).fetchall()


def moved_tenant_by_slug(conn: Connection, *, slug: str) -> tuple[uuid.UUID, str] | None:
    """The tenant a move took out of its slug's placement cell, and its cell (``app.moved_tenant_by_slug``)."""
    row = conn.execute("SELECT tenant_id, cell FROM app.moved_tenant_by_slug(%s)", (slug,)).fetchone()
    return None if row is None else (uuid.UUID(str(row["tenant_id"])), str(row["cell"]))


def tenant_id_by_slug(conn: Connection, *, slug: str) -> uuid.UUID | None:
    row = conn.execute("SELECT app.tenant_id_by_slug(%s) AS id", (slug,)).fetchone()
    return None if row is None or row["id"] is None else uuid.UUID(str(row["id"]))


def visible_user(conn: Connection, *, user_id: uuid.UUID) -> dict[str, Any] | None:
    """The user's profile, visible only through a membership of the transaction's tenant (RLS)."""
    return conn.execute("SELECT id, email, display_name FROM users WHERE id = %s", (user_id,)).fetchone()
