"""The tenant's event log, read newest first (RLS limits it to the transaction's tenant)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from saascore.db.connection import Connection


def list_page(
    conn: Connection, *, type: str | None, limit: int, after: tuple[datetime, uuid.UUID] | None
) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT id, type, version, data, actor_type, actor_user_id, request_id, occurred_at FROM events "
        "WHERE (%(type)s::text IS NULL OR type = %(type)s::text) "
        "AND (%(k)s::timestamptz IS NULL OR (occurred_at, id) < (%(k)s::timestamptz, %(kid)s::uuid)) "
        "ORDER BY occurred_at DESC, id DESC LIMIT %(n)s",
        {"type": type, "k": after[0] if after else None, "kid": after[1] if after else None, "n": limit + 1},
    ).fetchall()
    return list(rows)
