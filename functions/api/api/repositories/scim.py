"""SQL of the SCIM server: tokens, users, groups, group members, and the memberships SCIM users provision."""

from __future__ import annotations

import uuid
from typing import Any

from psycopg.types.json import Jsonb

from saascore.db.connection import Connection

ISSUED_COLUMNS = "id, public_id, name, created_by, created_at, last_used_at, revoked_at, replaced_by"
USER_COLUMNS = (
    "id, user_name, external_id, active, attributes, membership_id, user_id, version, created_at, updated_at"
)
GROUP_COLUMNS = "id, display_name, external_id, attributes, role_id, version, created_at, updated_at"


# Tokens


def token_tenant(conn: Connection, *, public_id: str) -> uuid.UUID | None:
    row = conn.execute("SELECT app.scim_token_tenant(%(pid)s) AS tenant_id", {"pid": public_id}).fetchone()
    return None if row is None or row["tenant_id"] is None else uuid.UUID(str(row["tenant_id"]))


def insert_token(
    conn: Connection,
    *,
    tenant_id: uuid.UUID,
    public_id: str,
    secret_hash: bytes,
    name: str,
    created_by: uuid.UUID,
) -> dict[str, Any]:
    row = conn.execute(
        "INSERT INTO scim_tokens (tenant_id, public_id, secret_hash, name, created_by) "
        f"VALUES (%(tid)s, %(pid)s, %(hash)s, %(name)s, %(by)s) RETURNING {ISSUED_COLUMNS}",
        {"tid": tenant_id, "pid": public_id, "hash": secret_hash, "name": name, "by": created_by},
    ).fetchone()
    assert row is not None
    return row


def list_tokens(conn: Connection) -> list[dict[str, Any]]:
    return conn.execute(
        f"SELECT {ISSUED_COLUMNS} FROM scim_tokens ORDER BY created_at DESC, id DESC"
    ).fetchall()


def get_token(conn: Connection, *, token_id: uuid.UUID) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {ISSUED_COLUMNS} FROM scim_tokens WHERE id = %(id)s FOR UPDATE", {"id": token_id}
    ).fetchone()


def revoke_token(conn: Connection, *, token_id: uuid.UUID, replaced_by: uuid.UUID | None) -> None:
    conn.execute(
        "UPDATE scim_tokens SET revoked_at = now(), replaced_by = %(by)s WHERE id = %(id)s AND revoked_at IS NULL",
        {"id": token_id, "by": replaced_by},
    )


def find_token_for_auth(conn: Connection, *, public_id: str) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT k.id, k.secret_hash, k.revoked_at, k.created_by, t.plan, t.billing_status, "
        "t.trial_ends_at, t.access_level FROM scim_tokens k JOIN tenants t ON t.id = k.tenant_id "
        "WHERE k.public_id = %(pid)s AND t.deleted_at IS NULL",
        {"pid": public_id},
    ).fetchone()


def touch_token(conn: Connection, *, token_id: uuid.UUID) -> None:
    # At most one write a minute per token: SCIM clients send bursts.
    conn.execute(
        "UPDATE scim_tokens SET last_used_at = now() WHERE id = %(id)s "
        "AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
        {"id": token_id},
    )


# Users and groups (filters arrive as SQL fragments built from a closed column list in the service)


def insert_user(
    conn: Connection, *, tenant_id: uuid.UUID, columns: dict[str, Any], attributes: dict[str, Any]
) -> dict[str, Any]:
    row = conn.execute(
        "INSERT INTO scim_users (tenant_id, user_name, external_id, display_name, email, active, attributes) "
        "VALUES (%(tid)s, %(user_name)s, %(external_id)s, %(display_name)s, %(email)s, %(active)s, %(attrs)s) "
        f"RETURNING {USER_COLUMNS}",
        {"tid": tenant_id, **columns, "attrs": Jsonb(attributes)},
    ).fetchone()
    assert row is not None
    return row


def update_user(
    conn: Connection, *, user_id: uuid.UUID, columns: dict[str, Any], attributes: dict[str, Any]
) -> dict[str, Any]:
    row = conn.execute(
        "UPDATE scim_users SET user_name = %(user_name)s, external_id = %(external_id)s, "
        "display_name = %(display_name)s, email = %(email)s, active = %(active)s, attributes = %(attrs)s, "
        f"version = version + 1, updated_at = clock_timestamp() WHERE id = %(id)s RETURNING {USER_COLUMNS}",
        {"id": user_id, **columns, "attrs": Jsonb(attributes)},
    ).fetchone()
    assert row is not None
    return row


def get_user(conn: Connection, *, user_id: uuid.UUID, for_update: bool = False) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    return conn.execute(
        f"SELECT {USER_COLUMNS} FROM scim_users WHERE id = %(id)s{lock}", {"id": user_id}
    ).fetchone()


def delete_user(conn: Connection, *, user_id: uuid.UUID) -> None:
    conn.execute("DELETE FROM scim_users WHERE id = %(id)s", {"id": user_id})


def link_user(
    conn: Connection,
    *,
    user_id: uuid.UUID,
    membership_id: uuid.UUID | None,
    platform_user_id: uuid.UUID | None,
) -> None:
    conn.execute(
        "UPDATE scim_users SET membership_id = %(m)s, user_id = COALESCE(%(u)s, user_id) WHERE id = %(id)s",
        {"id": user_id, "m": membership_id, "u": platform_user_id},
    )


def list_page(
    conn: Connection, *, table: str, where: list[str], params: list[Any], offset: int, count: int
) -> tuple[int, list[dict[str, Any]]]:
    """(total matching, one page) of ``scim_users`` or ``scim_groups`` in creation order."""
    columns = {"scim_users": USER_COLUMNS, "scim_groups": GROUP_COLUMNS}[table]
    condition = " AND ".join(where) or "true"
    total = conn.execute(f"SELECT count(*) AS n FROM {table} WHERE {condition}", params).fetchone()
    rows = (
        conn.execute(
            f"SELECT {columns} FROM {table} WHERE {condition} ORDER BY created_at, id OFFSET %s LIMIT %s",
            [*params, offset, count],
        ).fetchall()
        if count
        else []
    )
    return (int(total["n"]) if total else 0), rows


def insert_group(
    conn: Connection,
    *,
    tenant_id: uuid.UUID,
    display_name: str,
    external_id: str | None,
    attributes: dict[str, Any],
) -> dict[str, Any]:
    row = conn.execute(
        "INSERT INTO scim_groups (tenant_id, display_name, external_id, attributes) "
        f"VALUES (%(tid)s, %(name)s, %(ext)s, %(attrs)s) RETURNING {GROUP_COLUMNS}",
        {"tid": tenant_id, "name": display_name, "ext": external_id, "attrs": Jsonb(attributes)},
    ).fetchone()
    assert row is not None
    return row


def update_group(
    conn: Connection,
    *,
    group_id: uuid.UUID,
    display_name: str,
    external_id: str | None,
    attributes: dict[str, Any],
) -> dict[str, Any]:
    row = conn.execute(
        "UPDATE scim_groups SET display_name = %(name)s, external_id = %(ext)s, attributes = %(attrs)s, "
        f"version = version + 1, updated_at = clock_timestamp() WHERE id = %(id)s RETURNING {GROUP_COLUMNS}",
        {"id": group_id, "name": display_name, "ext": external_id, "attrs": Jsonb(attributes)},
    ).fetchone()
    assert row is not None
    return row


def get_group(conn: Connection, *, group_id: uuid.UUID, for_update: bool = False) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    return conn.execute(
        f"SELECT {GROUP_COLUMNS} FROM scim_groups WHERE id = %(id)s{lock}", {"id": group_id}
    ).fetchone()


def delete_group(conn: Connection, *, group_id: uuid.UUID) -> None:
    conn.execute("DELETE FROM scim_groups WHERE id = %(id)s", {"id": group_id})


def group_members(conn: Connection, *, group_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT gm.group_id, u.id, u.user_name, u.display_name FROM scim_group_members gm "
        "JOIN scim_users u ON u.id = gm.user_id WHERE gm.group_id = ANY(%(ids)s) ORDER BY u.created_at, u.id",
        {"ids": group_ids},
    ).fetchall()


def user_groups(conn: Connection, *, user_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT gm.user_id, g.id, g.display_name FROM scim_group_members gm "
        "JOIN scim_groups g ON g.id = gm.group_id WHERE gm.user_id = ANY(%(ids)s) ORDER BY g.created_at, g.id",
        {"ids": user_ids},
    ).fetchall()


def existing_users(conn: Connection, *, user_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    rows = conn.execute("SELECT id FROM scim_users WHERE id = ANY(%(ids)s)", {"ids": user_ids}).fetchall()
    return {row["id"] for row in rows}


def add_members(
    conn: Connection, *, tenant_id: uuid.UUID, group_id: uuid.UUID, user_ids: list[uuid.UUID]
) -> None:
    conn.execute(
        "INSERT INTO scim_group_members (tenant_id, group_id, user_id) "
        "SELECT %(tid)s, %(gid)s, unnest(%(ids)s::uuid[]) ON CONFLICT DO NOTHING",
        {"tid": tenant_id, "gid": group_id, "ids": user_ids},
    )


def remove_members(conn: Connection, *, group_id: uuid.UUID, user_ids: list[uuid.UUID]) -> None:
    conn.execute(
        "DELETE FROM scim_group_members WHERE group_id = %(gid)s AND user_id = ANY(%(ids)s)",
        {"gid": group_id, "ids": user_ids},
    )


def set_group_role(
    conn: Connection, *, group_id: uuid.UUID, role_id: uuid.UUID | None
) -> dict[str, Any] | None:
    return conn.execute(
        f"UPDATE scim_groups SET role_id = %(rid)s WHERE id = %(id)s RETURNING {GROUP_COLUMNS}",
        {"id": group_id, "rid": role_id},
    ).fetchone()


def list_groups_with_roles(conn: Connection) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT g.id, g.display_name, g.external_id, r.key AS role, "
        "(SELECT count(*) FROM scim_group_members gm WHERE gm.group_id = g.id) AS member_count "
        "FROM scim_groups g LEFT JOIN roles r ON r.id = g.role_id ORDER BY lower(g.display_name), g.id"
    ).fetchall()


def group_user_ids(conn: Connection, *, group_id: uuid.UUID) -> list[uuid.UUID]:
    rows = conn.execute(
        "SELECT user_id FROM scim_group_members WHERE group_id = %(id)s", {"id": group_id}
    ).fetchall()
    return [row["user_id"] for row in rows]


# The memberships SCIM users provision


def find_membership(
    conn: Connection, *, platform_user_id: uuid.UUID | None, email: str | None
) -> dict[str, Any] | None:
    """The membership of a known person, else the one (member or invitation) with this e-mail, if not already
    provisioned by another SCIM user."""
    return conn.execute(
        "SELECT m.id, m.user_id FROM memberships m LEFT JOIN users u ON u.id = m.user_id "
        "WHERE (m.user_id = %(uid)s OR lower(u.email) = lower(%(email)s) "
        "       OR (m.status = 'invited' AND lower(m.invited_email) = lower(%(email)s))) "
        "AND NOT EXISTS (SELECT 1 FROM scim_users s WHERE s.membership_id = m.id) "
        "ORDER BY (m.user_id = %(uid)s) DESC NULLS LAST LIMIT 1",
        {"uid": platform_user_id, "email": email},
    ).fetchone()


def membership(conn: Connection, *, membership_id: uuid.UUID) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT m.id, m.user_id, m.status, m.role_id, r.key AS role FROM memberships m "
        "JOIN roles r ON r.id = m.role_id WHERE m.id = %(id)s FOR UPDATE OF m",
        {"id": membership_id},
    ).fetchone()


def role_id_by_key(conn: Connection, *, key: str) -> uuid.UUID | None:
    row = conn.execute("SELECT id FROM roles WHERE key = %(key)s", {"key": key}).fetchone()
    return None if row is None else row["id"]


def mapped_roles(conn: Connection, *, user_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """Per provisioned SCIM user: the membership, its role, and the strongest role its groups map to (most
    permissions, then role key), or NULL when no group of theirs is mapped."""
    return conn.execute(
        """
        SELECT u.id AS scim_user_id, m.id AS membership_id, m.role_id, cur.key AS role, u.granted_role_id,
               (SELECT g.role_id FROM scim_group_members gm
                JOIN scim_groups g ON g.id = gm.group_id JOIN roles r ON r.id = g.role_id
                WHERE gm.user_id = u.id
                ORDER BY (SELECT count(*) FROM role_permissions rp WHERE rp.role_id = r.id) DESC, r.key
                LIMIT 1) AS mapped_role_id
        FROM scim_users u JOIN memberships m ON m.id = u.membership_id JOIN roles cur ON cur.id = m.role_id
        WHERE u.id = ANY(%(ids)s)
        """,
        {"ids": user_ids},
    ).fetchall()


def set_granted_role(conn: Connection, *, user_id: uuid.UUID, role_id: uuid.UUID | None) -> None:
    conn.execute(
        "UPDATE scim_users SET granted_role_id = %(rid)s WHERE id = %(id)s", {"id": user_id, "rid": role_id}
    )
