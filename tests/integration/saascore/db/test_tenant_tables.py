"""The tenant-table catalog against the migrated schema: complete, and in a load order that keeps every FK."""

from __future__ import annotations

import psycopg
import pytest

from saascore.db.tenant_tables import (
    TenantTable,
    TenantTableCycleError,
    children_first,
    parents_first,
    tenant_tables,
)
from tests.support import catalog
from tests.support.postgres import TestDatabase


@pytest.fixture
def tables(pg: TestDatabase) -> list[TenantTable]:
    with psycopg.connect(pg.owner_url) as conn:
        return tenant_tables(conn)


def test_every_table_with_a_tenant_column_is_listed(pg: TestDatabase, tables: list[TenantTable]) -> None:
    with psycopg.connect(pg.owner_url) as conn:
        expected = {t.name for t in catalog.tables(conn) if t.tenant_column is not None}
    assert {t.name for t in tables} == expected
    assert {"tenants", "projects", "memberships", "audit_logs"} <= expected


def test_parents_come_before_children(tables: list[TenantTable]) -> None:
    position = {t.name: i for i, t in enumerate(tables)}
    assert tables[0].name == "tenants"
    for table in tables:
        for parent in table.parents:
            assert position[parent] < position[table.name], (table.name, parent)
    projects = next(t for t in tables if t.name == "projects")
    assert "tenants" in projects.parents
    assert projects.primary_key == ("id",)
    assert projects.columns[0] == "id"
    assert "tenant_id" in projects.columns


def test_deletion_order_is_the_reverse(tables: list[TenantTable]) -> None:
    assert children_first(tables)[-1].name == "tenants"


def test_a_foreign_key_cycle_is_refused() -> None:
    a = TenantTable("a", "tenant_id", ("id",), ("id",), ("b",))
    b = TenantTable("b", "tenant_id", ("id",), ("id",), ("a",))
    with pytest.raises(TenantTableCycleError, match=r"\['a', 'b'\]"):
        parents_first({"a": a, "b": b})
