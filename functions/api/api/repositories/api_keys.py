"""API key rows (tenant rows under RLS) and the one cross-tenant look-up: a key's public id → its tenant."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from saascore.db.connection import Connection

COLUMNS = "id, public_id, name, scopes, created_by, created_at, expires_at, last_used_at, revoked_at"


def tenant_of(conn: Connection, *, public_id: str) -> uuid.UUID | None:
    row = conn.execute("SELECT app.api_key_tenant(%(pid)s) AS tenant_id", {"pid": public_id}).fetchone()
    return None if row is None or row["tenant_id"] is None else uuid.UUID(str(row["tenant_id"]))


def insert(
    conn: Connection,
    *,
    tenant_id: uuid.UUID,
    public_id: str,
    secret_hash: bytes,
    name: str,
    scopes: list[str],
    created_by: uuid.UUID,
    session_id: uuid.UUID,
    expires_at: datetime,
) -> dict[str, Any]:
    row = conn.execute(
        "INSERT INTO api_keys (tenant_id, public_id, secret_hash, name, scopes, created_by, session_id, "
        "expires_at) VALUES (%(tid)s, %(pid)s, %(hash)s, %(name)s, %(scopes)s, %(by)s, %(sid)s, %(exp)s) "
        f"RETURNING {COLUMNS}",
        {
            "tid": tenant_id,
            "pid": public_id,
            "hash": secret_hash,
            "name": name,
            "scopes": scopes,
            "by": created_by,
            "sid": session_id,
            "exp": expires_at,
        },
    ).fetchone()
    assert row is not None
    return row


def list_page(
    conn: Connection, *, limit: int, after: tuple[datetime, uuid.UUID] | None
) -> list[dict[str, Any]]:
    """Newest first, keyset on (created_at, id); ``limit + 1`` rows tell whether a next page exists."""
    where = "WHERE (created_at, id) < (%(at)s, %(id)s)" if after else ""
    return conn.execute(
        f"SELECT {COLUMNS} FROM api_keys {where} ORDER BY created_at DESC, id DESC LIMIT %(limit)s",
        {"limit": limit + 1, "at": after[0] if after else None, "id": after[1] if after else None},
    ).fetchall()


def revoke(conn: Connection, *, key_id: uuid.UUID, revoked_by: uuid.UUID) -> dict[str, Any] | None:
    """The key as it was before revoking, with its session id; None when there is no such key."""
    return conn.execute(
        "UPDATE api_keys k SET revoked_at = COALESCE(k.revoked_at, now()), "
        "revoked_by = COALESCE(k.revoked_by, %(by)s) FROM api_keys old "
        "WHERE k.id = %(id)s AND old.id = k.id "
        "RETURNING old.revoked_at AS was_revoked_at, k.session_id, k.name, k.public_id",
        {"id": key_id, "by": revoked_by},
    ).fetchone()


def find_for_exchange(conn: Connection, *, public_id: str) -> dict[str, Any] | None:
    """The key, its session's state and its creator's current membership, locked for the last-used write."""
    return conn.execute(
        "SELECT k.id, k.secret_hash, k.scopes, k.created_by, k.session_id, k.revoked_at, "
        "k.expires_at <= now() AS expired, "
        "(s.revoked_at IS NOT NULL OR s.expires_at <= now()) AS session_over "
        "FROM api_keys k JOIN sessions s ON s.id = k.session_id "
        "WHERE k.public_id = %(pid)s FOR UPDATE OF k",
        {"pid": public_id},
    ).fetchone()


def touch(conn: Connection, *, key_id: uuid.UUID) -> None:
    conn.execute("UPDATE api_keys SET last_used_at = now() WHERE id = %(id)s", {"id": key_id})
