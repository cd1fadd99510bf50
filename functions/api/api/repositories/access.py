"""The one query behind every authorised request: tenant state (billing and lifecycle), the caller's role,
permissions, session, and which event types the tenant's enabled webhook endpoints take (so recording a
domain event later in the request reads nothing back: ``saascore.events.remember_subscriptions``)."""

from __future__ import annotations

import uuid
from typing import Any

from saascore.db.connection import Connection, Deferred

ACCESS_SQL = """
SELECT t.plan, t.access_level, t.billing_grace_ends_at, t.billing_status, t.trial_ends_at, t.lifecycle_state,
       t.lifecycle_hold, t.erase_after, r.key AS role_key,
       COALESCE((SELECT array_agg(rp.permission_id ORDER BY rp.permission_id)
                 FROM role_permissions rp WHERE rp.role_id = m.role_id), '{}') AS permissions,
       EXISTS (SELECT 1 FROM sessions s
               WHERE s.id = %(sid)s AND s.user_id = %(uid)s AND s.revoked_at IS NULL
                 AND s.expires_at > now()) AS session_active,
       (SELECT k.scopes FROM api_keys k WHERE k.session_id = %(sid)s) AS api_key_scopes,
       (SELECT array_agg(DISTINCT COALESCE(subscribed, '*'))
          FROM webhook_endpoints w LEFT JOIN LATERAL unnest(NULLIF(w.event_types, '{}')) AS subscribed ON true
         WHERE w.status = 'enabled') AS webhook_event_types
FROM tenants t
LEFT JOIN memberships m ON m.tenant_id = t.id AND m.user_id = %(uid)s AND m.status = 'active'
LEFT JOIN roles r ON r.id = m.role_id
WHERE t.id = %(tid)s AND t.deleted_at IS NULL
"""


def queue_access(
    conn: Connection, *, tenant_id: uuid.UUID, user_id: uuid.UUID, session_id: uuid.UUID
) -> Deferred[dict[str, Any] | None]:
    """The access query, sent now; in pipeline mode its row is read when asked for."""
    cursor = conn.execute(ACCESS_SQL, {"tid": tenant_id, "uid": user_id, "sid": session_id})
    return Deferred(cursor, lambda done: done.fetchone())


def load_access(
    conn: Connection, *, tenant_id: uuid.UUID, user_id: uuid.UUID, session_id: uuid.UUID
) -> dict[str, Any] | None:
    return queue_access(conn, tenant_id=tenant_id, user_id=user_id, session_id=session_id).result()
