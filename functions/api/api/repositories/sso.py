"""SSO connections of the transaction's tenant (RLS)."""

from __future__ import annotations

import uuid
from typing import Any

from saascore.db.connection import Connection

COLUMNS = (
    "id, protocol, provider_name, display_name, saml_metadata_url, saml_entity_id, oidc_issuer, "
    "oidc_client_id, oidc_secret_arn, oidc_scopes, email_attribute, groups_attribute, created_at, updated_at"
)
UPDATABLE = frozenset(
    {
        "display_name",
        "saml_metadata_url",
        "saml_entity_id",
        "oidc_client_id",
        "oidc_secret_arn",
        "oidc_scopes",
        "email_attribute",
        "groups_attribute",
    }
)
# Serialises read-modify-write of the shared Cognito app client's provider list across all tenants and
# containers (transaction-scoped: nothing outlives the request, no RDS Proxy pinning).
APP_CLIENT_LOCK = 0x5350_4F00


def list_all(conn: Connection) -> list[dict[str, Any]]:
    return conn.execute(f"SELECT {COLUMNS} FROM sso_connections ORDER BY created_at, id").fetchall()


def count(conn: Connection) -> int:
    row = conn.execute("SELECT count(*) AS n FROM sso_connections").fetchone()
    return int(row["n"]) if row else 0


def get(conn: Connection, *, connection_id: uuid.UUID, for_update: bool = False) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    return conn.execute(
        f"SELECT {COLUMNS} FROM sso_connections WHERE id = %s{lock}", (connection_id,)
    ).fetchone()


def insert(conn: Connection, *, tenant_id: uuid.UUID, values: dict[str, Any]) -> dict[str, Any]:
    columns = ["tenant_id", *values]
    placeholders = ", ".join(f"%({column})s" for column in columns)
    row = conn.execute(
        f"INSERT INTO sso_connections ({', '.join(columns)}) VALUES ({placeholders}) RETURNING {COLUMNS}",
        {"tenant_id": tenant_id, **values},
    ).fetchone()
    assert row is not None
    return row


def update(conn: Connection, *, connection_id: uuid.UUID, changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - UPDATABLE
    assert not unknown, f"not updatable: {unknown}"
    assignments = ", ".join(f"{column} = %({column})s" for column in changes)
    row = conn.execute(
        f"UPDATE sso_connections SET {assignments} WHERE id = %(id)s RETURNING {COLUMNS}",
        {**changes, "id": connection_id},
    ).fetchone()
    assert row is not None
    return row


def delete(conn: Connection, *, connection_id: uuid.UUID) -> None:
    conn.execute("DELETE FROM sso_connections WHERE id = %s", (connection_id,))


def lock_app_client(conn: Connection) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (APP_CLIENT_LOCK,))


# Verified domains.

DOMAIN_COLUMNS = (
    "id, domain, verification_token, verified_at, connection_id, enforce_sso, created_at, updated_at"
)


def list_domains(conn: Connection) -> list[dict[str, Any]]:
    return conn.execute(f"SELECT {DOMAIN_COLUMNS} FROM sso_domains ORDER BY created_at, id").fetchall()


def count_domains(conn: Connection) -> int:
    row = conn.execute("SELECT count(*) AS n FROM sso_domains").fetchone()
    return int(row["n"]) if row else 0


def get_domain(conn: Connection, *, domain_id: uuid.UUID, for_update: bool = False) -> dict[str, Any] | None:
    lock = " FOR UPDATE" if for_update else ""
    return conn.execute(
        f"SELECT {DOMAIN_COLUMNS} FROM sso_domains WHERE id = %s{lock}", (domain_id,)
    ).fetchone()


def insert_domain(
    conn: Connection, *, tenant_id: uuid.UUID, domain: str, token: str, connection_id: uuid.UUID | None
) -> dict[str, Any]:
    row = conn.execute(
        f"INSERT INTO sso_domains (tenant_id, domain, verification_token, connection_id) "
        f"VALUES (%s, %s, %s, %s) RETURNING {DOMAIN_COLUMNS}",
        (tenant_id, domain, token, connection_id),
    ).fetchone()
    assert row is not None
    return row


def mark_verified(conn: Connection, *, domain_id: uuid.UUID) -> dict[str, Any]:
    row = conn.execute(
        f"UPDATE sso_domains SET verified_at = now() WHERE id = %s RETURNING {DOMAIN_COLUMNS}", (domain_id,)
    ).fetchone()
    assert row is not None
    return row


def update_domain(conn: Connection, *, domain_id: uuid.UUID, changes: dict[str, Any]) -> dict[str, Any]:
    assert set(changes) <= {"connection_id", "enforce_sso"}
    assignments = ", ".join(f"{column} = %({column})s" for column in changes)
    row = conn.execute(
        f"UPDATE sso_domains SET {assignments} WHERE id = %(id)s RETURNING {DOMAIN_COLUMNS}",
        {**changes, "id": domain_id},
    ).fetchone()
    assert row is not None
    return row


def delete_domain(conn: Connection, *, domain_id: uuid.UUID) -> None:
    conn.execute("DELETE FROM sso_domains WHERE id = %s", (domain_id,))


def enforced_domain(conn: Connection, *, domain: str) -> dict[str, Any] | None:
    """The transaction's tenant's verified domain ``domain`` when it enforces SSO."""
    return conn.execute(
        "SELECT d.id, d.connection_id FROM sso_domains d "
        "WHERE d.domain = %s AND d.verified_at IS NOT NULL AND d.enforce_sso",
        (domain,),
    ).fetchone()


def provider_names(conn: Connection) -> set[str]:
    return {row["provider_name"] for row in conn.execute("SELECT provider_name FROM sso_connections")}


def domain_verified_elsewhere(conn: Connection, *, domain: str) -> bool:
    row = conn.execute("SELECT app.sso_domain_verified_elsewhere(%s) AS taken", (domain,)).fetchone()
    return bool(row and row["taken"])


def discover(conn: Connection, *, domain: str) -> dict[str, Any] | None:
    return conn.execute("SELECT provider_name, enforce_sso FROM app.sso_discover(%s)", (domain,)).fetchone()


# Role mapping and just-in-time provisioning.


def role_mapping(conn: Connection, *, connection_id: uuid.UUID) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT m.group_name, r.key AS role FROM sso_role_mappings m JOIN roles r ON r.id = m.role_id "
        "WHERE m.connection_id = %s ORDER BY m.group_name",
        (connection_id,),
    ).fetchall()


def default_role_key(conn: Connection, *, connection_id: uuid.UUID) -> str | None:
    row = conn.execute(
        "SELECT r.key FROM sso_connections c JOIN roles r ON r.id = c.default_role_id WHERE c.id = %s",
        (connection_id,),
    ).fetchone()
    return None if row is None else str(row["key"])


def replace_role_mapping(
    conn: Connection,
    *,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    default_role_id: uuid.UUID | None,
    mappings: list[tuple[str, uuid.UUID]],
) -> None:
    conn.execute(
        "UPDATE sso_connections SET default_role_id = %s WHERE id = %s", (default_role_id, connection_id)
    )
    conn.execute("DELETE FROM sso_role_mappings WHERE connection_id = %s", (connection_id,))
    if mappings:
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO sso_role_mappings (tenant_id, connection_id, group_name, role_id) VALUES (%s, %s, %s, %s)",
                [(tenant_id, connection_id, group, role_id) for group, role_id in mappings],
            )


def connection_by_provider(conn: Connection, *, provider_name: str) -> dict[str, Any] | None:
    """The connection, and whether it maps roles at all (a default role or at least one mapping)."""
    return conn.execute(
        "SELECT c.id, c.default_role_id IS NOT NULL "
        "OR EXISTS (SELECT 1 FROM sso_role_mappings m WHERE m.connection_id = c.id) AS maps_roles "
        "FROM sso_connections c WHERE c.provider_name = %s",
        (provider_name,),
    ).fetchone()


# The mapped role with the most permissions wins; the default role only when no group maps.
RESOLVE_ROLE_SQL = """
SELECT id, key FROM (
    SELECT r.id, r.key, (SELECT count(*) FROM role_permissions rp WHERE rp.role_id = r.id) AS weight
    FROM sso_role_mappings m JOIN roles r ON r.id = m.role_id
    WHERE m.connection_id = %(cid)s AND m.group_name = ANY(%(groups)s)
    UNION ALL
    SELECT r.id, r.key, -1 FROM sso_connections c JOIN roles r ON r.id = c.default_role_id WHERE c.id = %(cid)s
) candidates
ORDER BY weight DESC, key
LIMIT 1
"""


def resolve_role(conn: Connection, *, connection_id: uuid.UUID, groups: list[str]) -> dict[str, Any] | None:
    return conn.execute(RESOLVE_ROLE_SQL, {"cid": connection_id, "groups": groups}).fetchone()


def membership_of(conn: Connection, *, user_id: uuid.UUID) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT m.id, m.role_id, r.key AS role, m.status FROM memberships m JOIN roles r ON r.id = m.role_id "
        "WHERE m.user_id = %s FOR UPDATE OF m",
        (user_id,),
    ).fetchone()


def scim_deactivated(conn: Connection, *, user_id: uuid.UUID, email: str) -> bool:
    """Whether the tenant's SCIM marks this person inactive (linked by platform user, else by e-mail)."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM scim_users s WHERE NOT s.active AND (s.user_id = %(uid)s "
        "OR (s.user_id IS NULL AND lower(s.email) = lower(%(email)s)))) AS deactivated",
        {"uid": user_id, "email": email},
    ).fetchone()
    return bool(row and row["deactivated"])


def scim_maps_role(conn: Connection, *, membership_id: uuid.UUID) -> bool:
    """Whether a SCIM group with a mapped role holds the SCIM user provisioning this membership."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM scim_users s JOIN scim_group_members gm ON gm.user_id = s.id "
        "JOIN scim_groups g ON g.id = gm.group_id "
        "WHERE s.membership_id = %(mid)s AND g.role_id IS NOT NULL) AS maps",
        {"mid": membership_id},
    ).fetchone()
    return bool(row and row["maps"])


def tenant_of_provider(conn: Connection, *, provider_name: str) -> uuid.UUID | None:
    row = conn.execute("SELECT app.sso_connection_tenant(%s) AS id", (provider_name,)).fetchone()
    return None if row is None or row["id"] is None else uuid.UUID(str(row["id"]))
