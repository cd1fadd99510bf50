"""The SQL of moves: the control plane's move log and directory (owner-only), and the tenant's freeze flag
in a cell. Every function runs in the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import sql
from psycopg.types.json import Jsonb

from saascore.db.connection import Connection

_MOVE_COLUMNS = (
    "id, tenant_id, source_cell, target_cell, step, requested_by, tables, error, started_at, frozen_at,"
    " flipped_at, finished_at"
)


def unfinished_move(conn: Connection, *, tenant_id: UUID) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {_MOVE_COLUMNS} FROM control.tenant_moves"
        " WHERE tenant_id = %s AND step NOT IN ('done', 'rolled_back')",
        (tenant_id,),
    ).fetchone()


def insert_move(
    conn: Connection, *, tenant_id: UUID, source_cell: str, target_cell: str, requested_by: str
) -> dict[str, Any]:
    row = conn.execute(
        "INSERT INTO control.tenant_moves (tenant_id, source_cell, target_cell, requested_by)"
        f" VALUES (%s, %s, %s, %s) RETURNING {_MOVE_COLUMNS}",
        (tenant_id, source_cell, target_cell, requested_by),
    ).fetchone()
    assert row is not None
    return row


def update_move(conn: Connection, *, move_id: UUID, changes: Mapping[str, Any]) -> dict[str, Any]:
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)) for column in changes
    )
    params = {k: Jsonb(v) if k == "tables" else v for k, v in changes.items()}
    row = conn.execute(
        sql.SQL("UPDATE control.tenant_moves SET {} WHERE id = {} RETURNING {}").format(
            assignments, sql.Placeholder("move_id"), sql.SQL(_MOVE_COLUMNS)
        ),
        {**params, "move_id": move_id},
    ).fetchone()
    assert row is not None
    return row


def directory_cell(conn: Connection, *, tenant_id: UUID) -> str | None:
    row = conn.execute("SELECT cell FROM control.tenant_cells WHERE tenant_id = %s", (tenant_id,)).fetchone()
    return None if row is None else str(row["cell"])


def point_directory(conn: Connection, *, tenant_id: UUID, cell: str, slug: str) -> None:
    """The flip: the tenant's cell, with its slug (sign-in by slug asks the directory for moved tenants)."""
    conn.execute(
        "INSERT INTO control.tenant_cells (tenant_id, cell, slug) VALUES (%s, %s, %s)"
        " ON CONFLICT (tenant_id) DO UPDATE SET cell = EXCLUDED.cell, slug = EXCLUDED.slug",
        (tenant_id, cell, slug),
    )


def tenant_slug(conn: Connection, *, tenant_id: UUID) -> str | None:
    """The tenant's slug in this cell (the transaction is set to that tenant), None when it is not here."""
    row = conn.execute("SELECT slug FROM tenants WHERE id = %s", (tenant_id,)).fetchone()
    return None if row is None else str(row["slug"])


def freeze(conn: Connection, *, tenant_id: UUID) -> bool:
    """Set the freeze flag; False when it was set already (a resumed move)."""
    row = conn.execute(
        "UPDATE tenants SET moving_since = now() WHERE id = %s AND moving_since IS NULL RETURNING id",
        (tenant_id,),
    ).fetchone()
    return row is not None


def frozen_since(conn: Connection, *, tenant_id: UUID) -> datetime | None:
    row = conn.execute("SELECT moving_since FROM tenants WHERE id = %s", (tenant_id,)).fetchone()
    return None if row is None else row["moving_since"]


def shared_identities(conn: Connection, *, identities: list[tuple[str, str]], user_ids: list[UUID]) -> int:
    """How many of these (issuer, subject) identities the database holds under another user id."""
    row = conn.execute(
        "SELECT count(*) AS n FROM users u JOIN unnest(%s::text[], %s::text[]) AS i (issuer, subject)"
        " ON u.idp_issuer = i.issuer AND u.idp_subject = i.subject WHERE u.id <> ALL (%s::uuid[])",
        ([i for i, _ in identities], [s for _, s in identities], user_ids),
    ).fetchone()
    return int(row["n"]) if row else 0


def member_identities(conn: Connection, *, tenant_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT u.id, u.idp_issuer, u.idp_subject FROM users u"
        " WHERE EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.tenant_id = %s)",
        (tenant_id,),
    ).fetchall()


def wait_for_writers(conn: Connection, *, tenant_id: UUID, lock_timeout_ms: int) -> None:
    """Block until no transaction that passed the write guard is still open (they hold KEY SHARE on the
    tenant's row; FOR UPDATE conflicts with it). Raises LockNotAvailable after ``lock_timeout_ms``."""
    conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(f"{lock_timeout_ms}ms")))
    conn.execute("SELECT id FROM tenants WHERE id = %s FOR UPDATE", (tenant_id,))


def unfreeze(conn: Connection, *, tenant_id: UUID, audit_action: str, audit_after: Mapping[str, Any]) -> bool:
    """Clear the freeze and audit it in one statement; False (and no audit entry) when it was not frozen."""
    row = conn.execute(
        "WITH unfrozen AS (UPDATE tenants SET moving_since = NULL WHERE id = %(tenant)s"
        " AND moving_since IS NOT NULL RETURNING id)"
        " INSERT INTO audit_logs (tenant_id, actor_type, action, resource_type, resource_id, after)"
        " SELECT id, 'system', %(action)s, 'tenant', id::text, %(after)s FROM unfrozen RETURNING id",
        {"tenant": tenant_id, "action": audit_action, "after": Jsonb(dict(audit_after))},
    ).fetchone()
    return row is not None


def audit(conn: Connection, *, tenant_id: UUID, action: str, after: Mapping[str, Any]) -> None:
    conn.execute(
        "INSERT INTO audit_logs (tenant_id, actor_type, action, resource_type, resource_id, after)"
        " VALUES (%s, 'system', %s, 'tenant', %s, %s)",
        (tenant_id, action, str(tenant_id), Jsonb(dict(after))),
    )


def member_user_ids(conn: Connection, *, tenant_id: UUID) -> list[UUID]:
    return [
        r["user_id"]
        for r in conn.execute("SELECT user_id FROM memberships WHERE tenant_id = %s", (tenant_id,))
    ]


def delete_unaffiliated_users(conn: Connection, *, user_ids: list[UUID]) -> int:
    """Those of ``user_ids`` no membership of any tenant of this cell refers to any more."""
    return conn.execute(
        "DELETE FROM users u WHERE u.id = ANY(%s)"
        " AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id)",
        (user_ids,),
    ).rowcount


def delete_tenant_rows(conn: Connection, *, table: str, tenant_column: str, tenant_id: UUID) -> int:
    return conn.execute(
        sql.SQL("DELETE FROM {} WHERE {} = %s").format(sql.Identifier(table), sql.Identifier(tenant_column)),
        (tenant_id,),
    ).rowcount
