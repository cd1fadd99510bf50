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
