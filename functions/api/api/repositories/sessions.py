"""Sessions and their one-use refresh tokens (stored as SHA-256 hashes)."""

from __future__ import annotations

import uuid
from typing import Any

from saascore.db.connection import Connection

CREATE_SESSION_SQL = """
INSERT INTO sessions (tenant_id, user_id, expires_at, ip, user_agent)
VALUES (%(tid)s, %(uid)s, now() + make_interval(secs => %(ttl)s), %(ip)s, %(ua)s)
RETURNING id
"""

INSERT_REFRESH_SQL = """
INSERT INTO refresh_tokens (tenant_id, session_id, token_hash, expires_at)
VALUES (%(tid)s, %(sid)s, %(hash)s, now() + make_interval(secs => %(ttl)s))
RETURNING id
"""

# The token, its session and the member's current role and the tenant's plan, row-locked so two
# refreshes with the same token serialise (the second one is then a reuse).
FIND_REFRESH_SQL = """
SELECT rt.id, rt.session_id, rt.used_at, rt.expires_at <= now() AS expired,
       s.user_id, s.revoked_at IS NOT NULL OR s.expires_at <= now() AS session_over
FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id
WHERE rt.token_hash = %(hash)s
FOR UPDATE OF rt, s
"""

MEMBER_CLAIMS_SQL = """
SELECT r.key AS role, t.plan, t.billing_status, t.trial_ends_at
FROM memberships m JOIN roles r ON r.id = m.role_id JOIN tenants t ON t.id = m.tenant_id
WHERE m.user_id = %(uid)s AND m.status = 'active' AND t.deleted_at IS NULL
"""


def create_session(
    conn: Connection,
    *,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    ttl_seconds: int,
    ip: str | None,
    user_agent: str | None,
) -> uuid.UUID:
    row = conn.execute(
        CREATE_SESSION_SQL, {"tid": tenant_id, "uid": user_id, "ttl": ttl_seconds, "ip": ip, "ua": user_agent}
    ).fetchone()
    assert row is not None
    return uuid.UUID(str(row["id"]))


def insert_refresh_token(
    conn: Connection, *, tenant_id: uuid.UUID, session_id: uuid.UUID, token_hash: bytes, ttl_seconds: int
) -> uuid.UUID:
    row = conn.execute(
        INSERT_REFRESH_SQL, {"tid": tenant_id, "sid": session_id, "hash": token_hash, "ttl": ttl_seconds}
    ).fetchone()
    assert row is not None
    return uuid.UUID(str(row["id"]))


def find_refresh_token(conn: Connection, *, token_hash: bytes) -> dict[str, Any] | None:
    return conn.execute(FIND_REFRESH_SQL, {"hash": token_hash}).fetchone()


def mark_used(conn: Connection, *, token_id: uuid.UUID, replaced_by: uuid.UUID) -> None:
    conn.execute(
        "UPDATE refresh_tokens SET used_at = now(), replaced_by = %(new)s WHERE id = %(id)s",
        {"id": token_id, "new": replaced_by},
    )
    conn.execute(
        "UPDATE sessions SET last_refreshed_at = now() WHERE id = "
        "(SELECT session_id FROM refresh_tokens WHERE id = %(id)s)",
        {"id": token_id},
    )


def revoke_session(conn: Connection, *, session_id: uuid.UUID, reason: str) -> bool:
    row = conn.execute(
        "UPDATE sessions SET revoked_at = now(), revoked_reason = %(reason)s "
        "WHERE id = %(id)s AND revoked_at IS NULL RETURNING id",
        {"id": session_id, "reason": reason},
    ).fetchone()
    return row is not None


def member_claims(conn: Connection, *, user_id: uuid.UUID) -> dict[str, Any] | None:
    return conn.execute(MEMBER_CLAIMS_SQL, {"uid": user_id}).fetchone()


def accept_invitation(conn: Connection, *, user_id: uuid.UUID, email: str) -> bool:
    """Turns a pending invitation for ``email`` into this user's active membership."""
    row = conn.execute(
        "UPDATE memberships SET user_id = %(uid)s, status = 'active' "
        "WHERE status = 'invited' AND lower(invited_email) = lower(%(email)s) "
        "AND NOT EXISTS (SELECT 1 FROM memberships WHERE user_id = %(uid)s) RETURNING id",
        {"uid": user_id, "email": email},
    ).fetchone()
    return row is not None
