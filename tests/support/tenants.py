"""Tenant rows arranged and inspected as the owner role, for tests that run below the API."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row


def insert_tenant(
    owner_url: str, slug: str | None = None, *, tenant_id: uuid.UUID | None = None, **columns: Any
) -> uuid.UUID:
    """Insert a tenant as the owner of the database at ``owner_url`` (any cell); its name is its slug."""
    tenant_id = tenant_id or uuid.uuid4()
    slug = slug or f"t-{tenant_id.hex[:10]}"
    with psycopg.connect(owner_url, autocommit=True) as conn, conn.transaction():
        conn.execute("SELECT app.set_tenant(%s)", (tenant_id,))
        names = ["id", "name", "slug", *columns]
        values = [tenant_id, slug, slug, *columns.values()]
        conn.execute(
            f"INSERT INTO tenants ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(values))})",
            values,
        )
    return tenant_id


@pytest.fixture
def make_tenant(pg: Any) -> Callable[..., uuid.UUID]:
    """Insert a tenant as the owner (RLS on tenants allows the owner nothing else without a tenant)."""

    def make(slug: str | None = None, **columns: Any) -> uuid.UUID:
        return insert_tenant(pg.owner_url, slug, **columns)

    return make


@pytest.fixture
def owner_sql(pg: Any) -> Callable[..., list[dict[str, Any]]]:
    """Run SQL as the owner inside a tenant's context (for arranging and inspecting rows)."""

    def run(tenant_id: uuid.UUID | None, query: str, params: Any = ()) -> list[dict[str, Any]]:
        with psycopg.connect(pg.owner_url, autocommit=True, row_factory=dict_row) as conn, conn.transaction():
            conn.execute("SELECT app.set_tenant(%s)", (tenant_id,))
            cursor = conn.execute(query, params)
            return list(cursor.fetchall()) if cursor.description else []

    return run
