"""Tenants and their system roles."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from saascore.db.connection import Connection

COLUMNS = (
    "id, name, slug, plan, billing_status, access_level, trial_ends_at, settings, created_at, updated_at"
)

# System roles for a new tenant, with the grants of the global catalogue, in one statement.
SEED_ROLES_SQL = """
WITH new_roles AS (
    INSERT INTO roles (tenant_id, key, name, is_system)
    SELECT %(tid)s, key, initcap(key), true FROM unnest(ARRAY['owner', 'admin', 'member', 'viewer']) AS key
    RETURNING id, key
), grants AS (
    INSERT INTO role_permissions (tenant_id, role_id, permission_id)
    SELECT %(tid)s, r.id, g.permission_id FROM new_roles r JOIN system_role_grants g ON g.role_key = r.key
)
SELECT id FROM new_roles WHERE key = 'owner'
"""


def insert(
    conn: Connection, *, tenant_id: uuid.UUID, name: str, slug: str, plan: str, trial_ends_at: datetime
) -> dict[str, Any]:
    row = conn.execute(
        f"INSERT INTO tenants (id, name, slug, plan, billing_status, trial_ends_at) "
        f"VALUES (%(id)s, %(name)s, %(slug)s, %(plan)s, 'trialing', %(trial)s) RETURNING {COLUMNS}",
        {"id": tenant_id, "name": name, "slug": slug, "plan": plan, "trial": trial_ends_at},
    ).fetchone()
    assert row is not None
    return row


def seed_system_roles(conn: Connection, *, tenant_id: uuid.UUID) -> uuid.UUID:
    """Creates owner/admin/member/viewer with their grants; returns the owner role's id."""
    row = conn.execute(SEED_ROLES_SQL, {"tid": tenant_id}).fetchone()
    assert row is not None
    return uuid.UUID(str(row["id"]))


def get(conn: Connection, *, for_update: bool = False) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    return conn.execute(f"SELECT {COLUMNS} FROM tenants WHERE deleted_at IS NULL{lock}").fetchone()


def update(conn: Connection, *, changes: dict[str, Any]) -> dict[str, Any]:
    values = {key: Jsonb(value) if key == "settings" else value for key, value in changes.items()}
    assignments = ", ".join(f"{column} = %({column})s" for column in changes)
    row = conn.execute(f"UPDATE tenants SET {assignments} RETURNING {COLUMNS}", values).fetchone()
    assert row is not None
    return row
