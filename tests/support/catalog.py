"""Reads the live schema to find every table, its tenant column and its policies.

The tenancy tests iterate over what this finds, so a table added by any migration is checked without
anyone registering it: a tenant table without forced RLS and a tenant policy fails by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from saascore.db.tenant_tables import TENANT_COLUMN_OVERRIDES

TENANT_EXPRESSION = "current_setting('app.tenant_id'::text, true)"


@dataclass(frozen=True)
class GlobalTable:
    reason: str
    app_may: frozenset[str] = frozenset()  # write privileges the application role keeps, if any


# Tables without a tenant column, each with the reason it is safe. Adding a global table means adding it
# here with a reason; the catalog test fails otherwise.
GLOBAL_TABLES: dict[str, GlobalTable] = {
    "users": GlobalTable(
        "global identities; RLS shows a user only through a membership of the current tenant"
    ),
    "permissions": GlobalTable("read-only catalogue of (resource, action) pairs"),
    "system_role_grants": GlobalTable("read-only catalogue of system role permissions"),
    "email_suppressions": GlobalTable(
        "addresses that hard-bounced or complained, for every tenant; holds no tenant data; append-only",
        app_may=frozenset({"INSERT"}),
    ),
    "erasure_receipts": GlobalTable(
        "what survives an erased tenant (id, time, row counts, requester, signature): the tenant is gone, so"
        " nothing can scope it; the application has no privilege on it and reaches it only through the"
        " app.begin_erasure / app.complete_erasure / app.erasure_receipt functions (decision 0112)"
    ),
    "stripe_parked_events": GlobalTable(
        "Stripe events of customers no tenant owns yet; the application has no privilege on it and reaches"
        " it only through app.park_stripe_event / app.take_parked_stripe_events (current tenant's customer"
        " only) / app.parked_stripe_events"
    ),
}

# The only policy name allowed to apply to a role other than the application's: `owner_directory`, granted
# to the table's owner alone, used by the SECURITY DEFINER directory functions (see migration 0004).
OWNER_DIRECTORY_POLICY = "owner_directory"

# The statement trigger that makes a moving tenant read-only (decision 0141): a tenant table without it
# would take writes during a move's copy, and those rows would be lost with the source.
MOVE_GUARD_TRIGGER = "refuse_write_while_moving"


@dataclass(frozen=True)
class TableInfo:
    name: str
    tenant_column: str | None
    rls_enabled: bool
    rls_forced: bool
    owner: str
    write_guarded: bool  # has the enabled `refuse_write_while_moving` trigger (migration 1000)


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
                 WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped),
               pg_get_userbyid(c.relowner),
               EXISTS (SELECT 1 FROM pg_trigger t
                        WHERE t.tgrelid = c.oid AND t.tgname = %s AND t.tgenabled <> 'D')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
        ORDER BY c.relname
        """,
        (MOVE_GUARD_TRIGGER,),
    ).fetchall()
    result = []
    for name, enabled, forced, tenant_column, owner, guarded in rows:
        column = TENANT_COLUMN_OVERRIDES.get(str(name), tenant_column)
        result.append(
            TableInfo(
                str(name),
                None if column is None else str(column),
                bool(enabled),
                bool(forced),
                str(owner),
                bool(guarded),
            )
        )
    return result


def policies(conn: psycopg.Connection[Any]) -> list[PolicyInfo]:
    rows: list[tuple[Any, ...]] = conn.execute(
        "SELECT tablename, policyname, roles, cmd, qual, with_check FROM pg_policies WHERE schemaname = 'public'"
    ).fetchall()
    return [
        PolicyInfo(str(t), str(n), tuple(str(r) for r in roles), str(cmd), q, w)
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
        owner_only = [
            p for p in table_policies if p.name == OWNER_DIRECTORY_POLICY and p.roles == (table.owner,)
        ]
        app_policies = [p for p in table_policies if "public" in p.roles or app_role in p.roles]
        stray = [p.name for p in table_policies if p not in app_policies and p not in owner_only]
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
        if not table.write_guarded:
            problems.append(
                f"{table.name}: no {MOVE_GUARD_TRIGGER} trigger (writes would go on during a cell move;"
                " create it with app.enable_tenant_rls or app.guard_tenant_writes)"
            )
        for policy in app_policies:
            for clause_name, clause in (("USING", policy.using), ("WITH CHECK", policy.with_check)):
                if clause is None or TENANT_EXPRESSION not in clause or table.tenant_column not in clause:
                    problems.append(
                        f"{table.name}: policy {policy.name} {clause_name} does not compare "
                        f"{table.tenant_column} with app.tenant_id"
                    )
    return problems
