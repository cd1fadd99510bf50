"""Tenant isolation, checked over the live catalog: every table any migration creates is covered."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from tests.support.catalog import GLOBAL_TABLES, isolation_problems, tables
from tests.support.rows import insert_row

TENANT_A = uuid.UUID("aaaaaaaa-0000-4000-8000-000000000001")
TENANT_B = uuid.UUID("bbbbbbbb-0000-4000-8000-000000000002")


@pytest.fixture(params=["pooled", "dedicated"])
def cell_pg(request, pg):
    """The matrices run in the pooled cell and in a dedicated one (every cell has the same schema)."""
    return pg if request.param == "pooled" else request.getfixturevalue("dedicated_pg")


@pytest.fixture
def admin(cell_pg):
    with psycopg.connect(_admin_url(cell_pg), autocommit=True) as conn:
        yield conn


def _admin_url(pg) -> str:
    base = pg.server.admin_url.rsplit("/", 1)[0]
    return f"{base}/{pg.name}"


def tenant_tables(admin_conn) -> list[tuple[str, str]]:
    return [(t.name, t.tenant_column) for t in tables(admin_conn) if t.tenant_column is not None]


def test_every_table_is_tenant_isolated_or_a_declared_global_table(admin):
    assert isolation_problems(admin) == []
    found = {t.name for t in tables(admin)}
    assert {"tenants", "projects", "memberships", "audit_logs", "idempotency_keys"} <= found


def test_a_tenant_table_without_a_policy_is_reported(admin):
    admin.execute("CREATE TABLE widgets (id uuid PRIMARY KEY, tenant_id uuid NOT NULL)")
    assert "widgets: row-level security is not enabled" in isolation_problems(admin)
    assert "widgets: no policy applies to the application role" in isolation_problems(admin)
    assert any(
        p.startswith("widgets: no refuse_write_while_moving trigger") for p in isolation_problems(admin)
    )
    admin.execute("ALTER TABLE widgets ENABLE ROW LEVEL SECURITY")
    admin.execute("CREATE POLICY loose ON widgets USING (true)")
    problems = isolation_problems(admin)
    assert "widgets: row-level security is not forced" in problems
    assert "widgets: policy loose USING does not compare tenant_id with app.tenant_id" in problems
    admin.execute("SELECT app.guard_tenant_writes('widgets')")
    assert not any(p.startswith("widgets: no refuse_write_while_moving") for p in isolation_problems(admin))


def test_a_global_table_must_be_declared(admin):
    admin.execute("CREATE TABLE lookup_codes (code text PRIMARY KEY)")
    assert "lookup_codes: no tenant_id column and not listed in GLOBAL_TABLES with a reason" in (
        isolation_problems(admin)
    )


def test_application_role_owns_nothing_and_bypasses_nothing(admin):
    role = admin.execute(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'saas_app'"
    ).fetchone()
    assert role == (False, False, False, False)
    owned = admin.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = 'saas_app'"
    ).fetchone()
    assert owned == (0,)


def test_global_tables_are_read_only_to_the_application(admin):
    for table, declared in GLOBAL_TABLES.items():
        for privilege in {"INSERT", "UPDATE", "DELETE"} - declared.app_may:
            allowed = admin.execute(
                "SELECT has_table_privilege('saas_app', %s, %s)", (f"public.{table}", privilege)
            ).fetchone()
            assert allowed == (False,), f"saas_app may {privilege} {table}"


def test_rows_of_another_tenant_are_invisible_and_untouchable(admin, cell_pg):
    checked = []
    for table, column in tenant_tables(admin):
        insert_row(admin, table=table, tenant_column=column, tenant_id=TENANT_A)
        insert_row(admin, table=table, tenant_column=column, tenant_id=TENANT_B)
        checked.append((table, column))
    failures: list[str] = []
    with psycopg.connect(cell_pg.app_url, autocommit=True) as app:
        for table, column in checked:
            ident, col = sql.Identifier(table), sql.Identifier(column)
            with app.transaction():
                app.execute("SELECT app.set_tenant(%s)", (TENANT_A,))
                visible = app.execute(sql.SQL("SELECT {} FROM {}").format(col, ident)).fetchall()
                if {row[0] for row in visible} != {TENANT_A}:
                    failures.append(f"{table}: tenant A sees {visible}")
                for statement in (
                    sql.SQL("UPDATE {} SET {} = {} WHERE {} = %s").format(ident, col, col, col),
                    sql.SQL("DELETE FROM {} WHERE {} = %s").format(ident, col),
                ):
                    try:
                        with app.transaction():
                            cursor = app.execute(statement, (TENANT_B,))
                            if cursor.rowcount != 0:
                                failures.append(f"{table}: {statement.as_string(app)} touched B's rows")
                    except psycopg.errors.InsufficientPrivilege:
                        pass  # append-only tables refuse UPDATE/DELETE outright
            with app.transaction():
                app.execute("SELECT app.set_tenant(%s)", (None,))
                count = app.execute(sql.SQL("SELECT count(*) FROM {}").format(ident)).fetchone()
                if count != (0,):
                    failures.append(f"{table}: {count[0] if count else '?'} rows visible with no tenant set")
    with psycopg.connect(_admin_url(cell_pg), autocommit=True) as check:
        for table, column in checked:
            remaining = check.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE {} = %s").format(
                    sql.Identifier(table), sql.Identifier(column)
                ),
                (TENANT_B,),
            ).fetchone()
            if remaining != (1,):
                failures.append(f"{table}: tenant B's row was changed from tenant A's transaction")
    assert failures == []
    assert len(checked) >= 10


def test_writing_a_row_for_another_tenant_is_refused(admin, cell_pg):
    # Tenant A is in this cell, so its writes pass the move guard (which refuses every write of a tenant
    # that is not) and meet the policies this test is about.
    insert_row(admin, table="tenants", tenant_column="id", tenant_id=TENANT_A)
    failures = []
    with psycopg.connect(cell_pg.app_url, autocommit=True) as app:
        for table, column in tenant_tables(admin):
            for tenant_setting in (TENANT_A, None):
                try:
                    with app.transaction():
                        app.execute("SELECT app.set_tenant(%s)", (tenant_setting,))
                        app.execute(
                            sql.SQL("INSERT INTO {} ({}) VALUES (%s)").format(
                                sql.Identifier(table), sql.Identifier(column)
                            ),
                            (TENANT_B,),
                        )
                    failures.append(f"{table}: insert for tenant B accepted (tenant set: {tenant_setting})")
                except psycopg.errors.InsufficientPrivilege:
                    pass
                except psycopg.errors.NotNullViolation:
                    failures.append(
                        f"{table}: NOT NULL checked before the tenant policy; cannot prove refusal"
                    )
    assert failures == []
