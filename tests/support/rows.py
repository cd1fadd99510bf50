"""Generic rows for any table, so the isolation tests cover tables nobody wrote a factory for.

Rows are written by the administrator with `session_replication_role = replica` (foreign keys and triggers
off), so a row needs only type-correct values and its CHECK constraints satisfied. Values come from the
column type; a column whose CHECK constraint the generic value breaks gets an entry in COLUMN_VALUES, and
the failing test says so.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import psycopg
from psycopg import sql

# (table, column) -> SQL expression, for columns whose CHECK constraints a generic value would break.
COLUMN_VALUES: dict[tuple[str, str], str] = {
    ("tenants", "slug"): "'t-' || substr(md5(random()::text), 1, 10)",
    ("tenants", "name"): "'Tenant'",
    ("tenants", "lifecycle_hold"): "NULL",  # an active tenant has no hold
    ("roles", "key"): "'role_' || substr(md5(random()::text), 1, 8)",
    ("memberships", "status"): "'active'",
    ("memberships", "user_id"): "gen_random_uuid()",
    ("audit_logs", "actor_type"): "'system'",
    ("idempotency_keys", "state"): "'completed'",
    ("projects", "status"): "'active'",
    ("api_keys", "public_id"): "substr(md5(random()::text), 1, 16)",
    ("api_keys", "secret_hash"): "sha256(random()::text::bytea)",
    ("api_keys", "scopes"): "'{projects:read}'",
    ("sso_connections", "provider_name"): "'sso-' || substr(md5(random()::text), 1, 12) || '-' || "
    "substr(md5(random()::text), 1, 12)",
    ("sso_domains", "domain"): "'d' || substr(md5(random()::text), 1, 10) || '.example'",
    ("sso_domains", "verification_token"): "md5(random()::text)",
    ("scim_tokens", "public_id"): "substr(md5(random()::text), 1, 16)",
    ("scim_tokens", "secret_hash"): "sha256(random()::text::bytea)",
    ("events", "type"): "'project.created'",
    ("webhook_endpoints", "disabled_reason"): "NULL",
}

TYPE_VALUES: dict[str, str] = {
    "uuid": "gen_random_uuid()",
    "text": "'x' || substr(md5(random()::text), 1, 10)",
    "character varying": "'x' || substr(md5(random()::text), 1, 10)",
    "integer": "1",
    "bigint": "1",
    "smallint": "1",
    "numeric": "1",
    "double precision": "1",
    "boolean": "false",
    "jsonb": "'{}'::jsonb",
    "json": "'{}'::json",
    "timestamp with time zone": "now()",
    "timestamp without time zone": "now()",
    "date": "current_date",
    "bytea": "decode(md5(random()::text), 'hex')",
    "inet": "'127.0.0.1'::inet",
    "interval": "interval '1 day'",
    "ARRAY": "'{}'",
}


def _enumerated_values(admin: psycopg.Connection[Any], table: str) -> dict[str, str]:
    """First allowed value of each single-column ``CHECK (col IN (...))`` constraint."""
    rows = admin.execute(
        """
        SELECT a.attname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.conrelid = %s::regclass AND c.contype = 'c' AND array_length(c.conkey, 1) = 1
        """,
        (f"public.{table}",),
    ).fetchall()
    found: dict[str, str] = {}
    for column, definition in rows:
        match = re.search(r"ARRAY\['((?:[^']|'')*)'", definition)
        if match:
            found[column] = match.group(1).replace("''", "'")
    return found


def insert_row(
    admin: psycopg.Connection[Any], *, table: str, tenant_column: str, tenant_id: uuid.UUID
) -> None:
    """Insert one row of ``table`` belonging to ``tenant_id`` (as admin, FKs and triggers off)."""
    columns = admin.execute(
        """
        SELECT column_name, data_type, column_default IS NOT NULL OR is_identity = 'YES', is_nullable = 'YES'
        FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = %s AND is_generated = 'NEVER'
        ORDER BY ordinal_position
        """,
        (table,),
    ).fetchall()
    enumerated = _enumerated_values(admin, table)
    names: list[sql.Composable] = []
    values: list[sql.Composable] = []
    for name, data_type, has_default, nullable in columns:
        if name == tenant_column:
            names.append(sql.Identifier(name))
            values.append(sql.Literal(tenant_id))
        elif (table, name) in COLUMN_VALUES:
            names.append(sql.Identifier(name))
            values.append(sql.SQL(COLUMN_VALUES[(table, name)]))
        elif name in enumerated and not has_default:
            names.append(sql.Identifier(name))
            values.append(sql.Literal(enumerated[name]))
        elif not has_default and not nullable:
            if data_type not in TYPE_VALUES:
                raise AssertionError(
                    f"{table}.{name}: no generic value for type {data_type}; add COLUMN_VALUES"
                )
            names.append(sql.Identifier(name))
            values.append(sql.SQL(TYPE_VALUES[data_type]))
    statement = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
        sql.Identifier(table), sql.SQL(", ").join(names), sql.SQL(", ").join(values)
    )
    try:
        with admin.transaction():
            admin.execute("SET LOCAL session_replication_role = replica")
            admin.execute(statement)
    except psycopg.errors.CheckViolation as exc:
        raise AssertionError(
            f"{table}: the generic row breaks a CHECK constraint ({exc.diag.constraint_name}); "
            "add the column to COLUMN_VALUES in tests/support/rows.py"
        ) from exc
