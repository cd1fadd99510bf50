"""Stored idempotent responses, one row per (tenant, user, key), inside the tenant's transaction."""

from __future__ import annotations

import uuid
from typing import Any

from psycopg.types.json import Jsonb

from saascore.db.connection import Connection, Deferred

# Claims the key, or re-claims it when the stored answer expired. A concurrent claim of the same key
# blocks on the unique index until the first transaction ends, then sees its row (no double execution).
# It travels with the access query, before the session is known to be good, so it claims nothing for a
# caller who is not a member here (a stale cell claim after a move: the answer is the access check's 401,
# not a foreign-key violation).
CLAIM_SQL = """
INSERT INTO idempotency_keys (tenant_id, user_id, key, method, path, request_hash, expires_at)
SELECT %(tid)s, %(uid)s, %(key)s, %(method)s, %(path)s, %(hash)s, now() + make_interval(secs => %(ttl)s)
WHERE EXISTS (SELECT 1 FROM memberships m WHERE m.tenant_id = %(tid)s AND m.user_id = %(uid)s)
ON CONFLICT (tenant_id, user_id, key) DO UPDATE
    SET method = EXCLUDED.method, path = EXCLUDED.path, request_hash = EXCLUDED.request_hash,
        state = 'in_progress', response_status = NULL, response_headers = NULL, response_body = NULL,
        created_at = now(), expires_at = EXCLUDED.expires_at
    WHERE idempotency_keys.expires_at <= now()
RETURNING true AS claimed
"""

FIND_SQL = """
SELECT method, path, request_hash, state, response_status, response_headers, response_body
FROM idempotency_keys WHERE tenant_id = %(tid)s AND user_id = %(uid)s AND key = %(key)s
"""

COMPLETE_SQL = """
UPDATE idempotency_keys
SET state = 'completed', response_status = %(status)s, response_headers = %(headers)s, response_body = %(body)s
WHERE tenant_id = %(tid)s AND user_id = %(uid)s AND key = %(key)s
"""


def queue_claim(
    conn: Connection,
    *,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    key: str,
    method: str,
    path: str,
    request_hash: bytes,
    ttl_seconds: int,
) -> Deferred[bool]:
    """The claim, sent now; whether it claimed the key is read when asked for (pipeline mode)."""
    params = {
        "tid": tenant_id,
        "uid": user_id,
        "key": key,
        "method": method,
        "path": path,
        "hash": request_hash,
        "ttl": ttl_seconds,
    }
    return Deferred(conn.execute(CLAIM_SQL, params), lambda done: done.fetchone() is not None)


def find(conn: Connection, *, tenant_id: uuid.UUID, user_id: uuid.UUID, key: str) -> dict[str, Any] | None:
    return conn.execute(FIND_SQL, {"tid": tenant_id, "uid": user_id, "key": key}).fetchone()


def complete(
    conn: Connection,
    *,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    key: str,
    status: int,
    headers: dict[str, str],
    body: bytes,
) -> None:
    conn.execute(
        COMPLETE_SQL,
        {
            "tid": tenant_id,
            "uid": user_id,
            "key": key,
            "status": status,
            "headers": Jsonb(headers),
            "body": body,
        },
    )
