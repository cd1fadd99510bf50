"""Every tenant table, read from the live schema, parents before children.

Whatever walks a tenant's data as a whole (export, restore, erasure, moving a tenant between cells)
asks this module rather than keeping its own list, so a table added by a later migration is covered
the moment it exists. A tenant table is a table of the public schema with a ``tenant_id`` column,
plus ``tenants`` itself (keyed by ``id``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from saascore.exceptions import SaasError

# Tables whose tenant column is not called tenant_id.
TENANT_COLUMN_OVERRIDES: dict[str, str] = {"tenants": "id"}


class TenantTableCycleError(SaasError):
    """Foreign keys between tenant tables form a cycle, so no load order exists."""


@dataclass(frozen=True, slots=True)
class TenantTable:
    name: str
    tenant_column: str
    columns: tuple[str, ...]  # in attribute order, generated columns left out
    primary_key: tuple[str, ...]
    parents: tuple[str, ...]  # other tenant tables this one references by foreign key


_TABLES_SQL = """
SELECT c.relname AS name,
       array_agg(a.attname ORDER BY a.attnum)
         FILTER (WHERE a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '') AS columns,
       (SELECT array_agg(k.attname ORDER BY array_position(i.indkey::int2[], k.attnum))
          FROM pg_index i JOIN pg_attribute k ON k.attrelid = i.indrelid AND k.attnum = ANY (i.indkey)
         WHERE i.indrelid = c.oid AND i.indisprimary) AS primary_key,
       (SELECT array_agg(DISTINCT p.relname::text)
          FROM pg_constraint f JOIN pg_class p ON p.oid = f.confrelid
         WHERE f.conrelid = c.oid AND f.contype = 'f' AND f.confrelid <> c.oid) AS referenced
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
GROUP BY c.oid, c.relname
"""


def tenant_tables(conn: psycopg.Connection[Any]) -> list[TenantTable]:
    """The tenant tables in an order in which loading never breaks a foreign key (ties by name)."""
    found: dict[str, TenantTable] = {}
    referenced: dict[str, set[str]] = {}
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        for row in cur.execute(_TABLES_SQL).fetchall():
            name = str(row["name"])
            columns = tuple(str(c) for c in row["columns"] or ())
            tenant_column = TENANT_COLUMN_OVERRIDES.get(name, "tenant_id")
            if tenant_column not in columns:
                continue
            found[name] = TenantTable(
                name=name,
                tenant_column=tenant_column,
                columns=columns,
                primary_key=tuple(str(c) for c in row["primary_key"] or ()),
                parents=(),
            )
            referenced[name] = {str(p) for p in row["referenced"] or ()}
    tables = {
        name: TenantTable(
            name=t.name,
            tenant_column=t.tenant_column,
            columns=t.columns,
            primary_key=t.primary_key,
            parents=tuple(sorted(referenced[name] & found.keys())),
        )
        for name, t in found.items()
    }
    return parents_first(tables)


def parents_first(tables: dict[str, TenantTable]) -> list[TenantTable]:
    ordered: list[TenantTable] = []
    placed: set[str] = set()
    remaining = dict(sorted(tables.items()))
    while remaining:
        ready = [t for t in remaining.values() if set(t.parents) <= placed]
        if not ready:
            raise TenantTableCycleError(f"foreign keys form a cycle among {sorted(remaining)}")
        for table in ready:
            ordered.append(table)
            placed.add(table.name)
            del remaining[table.name]
    return ordered


def children_first(tables: Iterable[TenantTable]) -> list[TenantTable]:
    """The deletion order: the reverse of the load order."""
    return list(reversed(list(tables)))
