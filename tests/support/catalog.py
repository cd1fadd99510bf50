"""Reads the live schema to find every table, its tenant column and its policies.

The tenancy tests iterate over what this finds, so a table added by any migration is checked without
anyone registering it: a tenant table without forced RLS and a tenant policy fails by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

TENANT_EXPRESSION = "current_setting('app.tenant_id'::text, true)"

# Tables without a tenant column, each with the reason it is safe. Adding a global table means adding it
# here with a reason; the catalog test fails otherwise.
GLOBAL_TABLES: dict[str, str] = {
    "users": "global identities; RLS shows a user only through a membership of the current tenant",
    "permissions": "read-only catalogue of (resource, action) pairs; the app role cannot write it",
    "system_role_grants": "read-only catalogue of system role permissions; the app role cannot write it",
}

# Tables whose tenant column is not called tenant_id.
TENANT_COLUMN_OVERRIDES: dict[str, str] = {"tenants": "id"}

# Policies that do not apply to the application role but to the migration owner, used only by the
# SECURITY DEFINER directory functions (migration 0004 explains each).
OWNER_DIRECTORY_POLICIES: set[tuple[str, str]] = {
    ("users", "owner_directory"),
    ("tenants", "owner_directory"),
    ("memberships", "owner_directory"),
    ("roles", "owner_directory"),
}


@dataclass(frozen=True)
class TableInfo:
    name: str
    tenant_column: str | None
    rls_enabled: bool
    rls_forced: bool


@dataclass(frozen=True)
class PolicyInfo:
    table: str
    name: str
    roles: tuple[str, ...]
    command: str
    using: str | None
    with_check: str | None


def tables(conn: psycopg.Connection[tuple[object, ...]]) -> list[TableInfo]:
    rows = conn.execute(
        """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
               (SELECT a.attname FROM pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
        ORDER BY c.relname
        """
    ).fetchall()
    result = []
    for name, enabled, forced, tenant_column in rows:
        column = TENANT_COLUMN_OVERRIDES.get(str(name), tenant_column)
        result.append(
            TableInfo(str(name), None if column is None else str(column), bool(enabled), bool(forced))
        )
    return result


def policies(conn: psycopg.Connection[tuple[object, ...]]) -> list[PolicyInfo]:
    rows = conn.execute(
        "SELECT tablename, policyname, roles, cmd, qual, with_check FROM pg_policies WHERE schemaname = 'public'"
    ).fetchall()
    return [
        PolicyInfo(str(t), str(n), tuple(str(r) for r in roles), str(cmd), q, w)  # type: ignore[arg-type, attr-defined]
        for t, n, roles, cmd, q, w in rows
    ]


def isolation_problems(
    conn: psycopg.Connection[tuple[object, ...]], *, app_role: str = "saas_app"
) -> list[str]:
    """Every way the live schema breaks the tenancy rules, as readable sentences (empty = all good)."""
    problems: list[str] = []
    all_policies = policies(conn)
    for table in tables(conn):
        table_policies = [p for p in all_policies if p.table == table.name]
        app_policies = [
            p
            for p in table_policies
            if (p.table, p.name) not in OWNER_DIRECTORY_POLICIES
            and ("public" in p.roles or app_role in p.roles)
        ]
        stray = [
            p.name
            for p in table_policies
            if (p.table, p.name) not in OWNER_DIRECTORY_POLICIES and p not in app_policies
        ]
        if stray:
            problems.append(
                f"{table.name}: policies {stray} apply to other roles and are not on the allow-list"
            )
        if table.tenant_column is None:
            if table.name not in GLOBAL_TABLES:
                problems.append(
                    f"{table.name}: no tenant_id column and not listed in GLOBAL_TABLES with a reason"
                )
            continue
        if not table.rls_enabled:
            problems.append(f"{table.name}: row-level security is not enabled")
        if not table.rls_forced:
            problems.append(f"{table.name}: row-level security is not forced")
        if not app_policies:
            problems.append(f"{table.name}: no policy applies to the application role")
        for policy in app_policies:
            for clause_name, clause in (("USING", policy.using), ("WITH CHECK", policy.with_check)):
                if clause is None or TENANT_EXPRESSION not in clause or table.tenant_column not in clause:
                    problems.append(
                        f"{table.name}: policy {policy.name} {clause_name} does not compare "
                        f"{table.tenant_column} with app.tenant_id"
                    )
    return problems
