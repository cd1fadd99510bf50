"""The tenants a scheduled job runs for (read through a SECURITY DEFINER directory function)."""

from __future__ import annotations

from uuid import UUID

from saascore.db.connection import Connection


def active_tenant_ids(conn: Connection) -> list[UUID]:
    return [row["id"] for row in conn.execute("SELECT id FROM app.active_tenant_ids() AS id").fetchall()]
