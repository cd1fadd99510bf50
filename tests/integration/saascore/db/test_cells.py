"""The directory functions and per-cell connections against real PostgreSQL (two databases = two cells)."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from local.postgres import OWNER_ROLE
from saascore.db.cells import (
    POOLED_CELL,
    CellDatabase,
    CellRegistry,
    directory_cell,
    get_cell_router,
    place_tenant,
    route_database,
    tenant_of_key,
)
from saascore.db.migrate import discover, migrate
from saascore.db.tenancy import tenant_transaction, tenantless_transaction
from saascore.exceptions import TenantNotInCellError
from tests.conftest import database_settings_for
from tests.support.cells import DEDICATED_CELL
from tests.support.tenants import insert_tenant

TENANT = uuid.UUID("aaaaaaaa-0000-4000-8000-000000000001")
CELL_DIRECTORY_VERSION = 900


def test_placing_a_tenant_records_its_cell_once(app_database):
    assert directory_cell(app_database, TENANT) is None
    assert place_tenant(app_database, TENANT, "acme") == "acme"
    assert place_tenant(app_database, TENANT, POOLED_CELL) == "acme"  # an entry is never overwritten
    assert directory_cell(app_database, TENANT) == "acme"


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT app.tenant_cell(%(t)s)",
        "SELECT app.place_tenant(%(t)s, 'acme')",
    ],
)
def test_the_directory_functions_refuse_to_run_in_a_tenant_transaction(app_database, statement):
    with (
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="not reachable from a tenant transaction"),
        tenant_transaction(TENANT, database=app_database) as conn,
    ):
        conn.execute(statement, {"t": TENANT})


@pytest.mark.parametrize("tenant", [TENANT, None])
def test_the_directory_table_is_out_of_the_application_roles_reach(app_database, tenant):
    place_tenant(app_database, TENANT, "acme")
    for statement in (
        "SELECT * FROM control.tenant_cells",
        "UPDATE control.tenant_cells SET cell = 'pooled'",
        "DELETE FROM control.tenant_cells",
    ):
        with (
            pytest.raises(psycopg.errors.InsufficientPrivilege),
            app_database.transaction("SELECT app.set_tenant(%s)", (tenant,)) as conn,
        ):
            conn.execute(statement)
    assert directory_cell(app_database, TENANT) == "acme"


def test_tenants_from_before_cells_are_back_filled_into_the_pooled_cell(pg_server):
    name = f"saas_cells_{uuid.uuid4().hex[:10]}"
    with pg_server.admin() as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(OWNER_ROLE))
        )
    url = pg_server.url(role=OWNER_ROLE, dbname=name)
    try:
        migrate(url, migrations=[m for m in discover() if m.version < CELL_DIRECTORY_VERSION])
        with psycopg.connect(url, autocommit=True) as conn, conn.transaction():
            conn.execute("SELECT app.set_tenant(%s)", (TENANT,))
            conn.execute("INSERT INTO tenants (id, name, slug) VALUES (%s, 'Old', 'old-tenant')", (TENANT,))
        migrate(url)
        with psycopg.connect(url) as conn:
            rows = conn.execute("SELECT tenant_id, cell FROM control.tenant_cells").fetchall()
        assert rows == [(TENANT, POOLED_CELL)]
    finally:
        with pg_server.admin() as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_a_busy_cell_connection_is_not_closed_and_the_idle_lru_one_is(pg, dedicated_pg):
    registry = CellRegistry(
        {
            POOLED_CELL: database_settings_for(pg.app_url),
            "a": database_settings_for(dedicated_pg.app_url),
            "b": database_settings_for(pg.app_url),
        },
        max_open=1,
    )
    pooled = registry.database(POOLED_CELL)
    assert isinstance(pooled, CellDatabase)
    with tenantless_transaction(database=pooled):
        other = registry.database("a")  # over the cap, but the pooled connection is mid-transaction
        assert not pooled.connection().closed
        with tenantless_transaction(database=other):
            pass
    assert registry.open_cells() == (POOLED_CELL, "a")
    registry.database("b")  # now both earlier ones are idle: they close, oldest first
    assert registry.open_cells() == ("b",)
    assert pooled.connects == 1
    assert other.connects == 1
    with tenantless_transaction(database=pooled):  # reopened on demand
        pass
    assert pooled.connects == 2
    registry.close()


def test_routing_follows_the_directory_to_the_dedicated_cell(cells, app_database):
    place_tenant(app_database, TENANT, DEDICATED_CELL)
    db = route_database(TENANT)
    assert db.settings.url is not None
    assert db.settings.url.get_secret_value() == cells.dedicated.app_url
    assert route_database(uuid.uuid4()) is app_database  # no entry: the pooled cell
    assert get_cell_router().lookups == 2
    route_database(TENANT)
    assert get_cell_router().lookups == 2  # cached


def test_a_write_in_a_cell_the_tenant_left_is_refused_and_the_stale_route_forgotten(cells, app_database):
    insert_tenant(cells.dedicated.owner_url, "moved-co", tenant_id=TENANT)
    place_tenant(app_database, TENANT, DEDICATED_CELL)
    get_cell_router().remember(TENANT, POOLED_CELL)  # the cached answer from before the move
    with (
        pytest.raises(TenantNotInCellError, match="not in this cell"),
        tenant_transaction(TENANT) as conn,
    ):
        conn.execute("INSERT INTO projects (tenant_id, name) VALUES (%s, 'lost?')", (TENANT,))
    assert get_cell_router().tenant_cell(TENANT) == DEDICATED_CELL
    with tenant_transaction(TENANT) as conn:
        conn.execute("INSERT INTO projects (tenant_id, name) VALUES (%s, 'kept')", (TENANT,))
    with tenant_transaction(TENANT, database=app_database) as conn:
        conn.execute("DELETE FROM projects")  # in the pooled cell: nothing to delete, and not refused
    with (
        pytest.raises(TenantNotInCellError),
        tenant_transaction(TENANT, database=app_database) as conn,  # not routed: no route to forget
    ):
        conn.execute("UPDATE projects SET name = 'x'")
    assert get_cell_router().tenant_cell(TENANT) == DEDICATED_CELL


def test_a_keys_tenant_is_asked_of_the_cells_once_per_container(app_database):
    asked: list[str] = []

    def lookup(key: str):
        def ask(conn):
            asked.append(key)
            row = conn.execute("SELECT %s::uuid AS t", (TENANT if key == "known" else None,)).fetchone()
            return row["t"] if row else None

        return ask

    assert tenant_of_key("api_key", "known", lookup("known")) == TENANT
    assert tenant_of_key("api_key", "known", lookup("known")) == TENANT
    assert tenant_of_key("scim_token", "known", lookup("known")) == TENANT  # kinds do not share keys
    assert tenant_of_key("api_key", "unknown", lookup("unknown")) is None
    assert tenant_of_key("api_key", "unknown", lookup("unknown")) is None  # a miss is asked again
    assert asked == ["known", "known", "unknown", "unknown"]
