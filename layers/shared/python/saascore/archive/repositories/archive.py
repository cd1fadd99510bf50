"""The SQL of archives: the live schema's column types, keys and references, streaming rows out with COPY
and loading them back in batches (in the caller's tenant transaction)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from uuid import UUID

from psycopg import sql

from saascore.db.connection import Connection

_COLUMN_TYPES_SQL = """
SELECT c.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type
FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND a.attnum > 0
  AND NOT a.attisdropped AND a.attgenerated = ''
ORDER BY c.relname, a.attnum
"""

_REFERENCES_SQL = """
SELECT c.relname AS table_name, p.relname AS referenced,
       array_agg(a.attname::text ORDER BY k.i) AS columns
FROM pg_constraint f
JOIN pg_class c ON c.oid = f.conrelid
JOIN pg_class p ON p.oid = f.confrelid
CROSS JOIN LATERAL unnest(f.conkey) WITH ORDINALITY AS k (attnum, i)
JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k.attnum
WHERE f.contype = 'f' AND c.relnamespace = 'public'::regnamespace
GROUP BY f.oid, c.relname, p.relname
"""

_UNIQUE_KEYS_SQL = """
SELECT c.relname AS table_name, array_agg(a.attname::text) AS columns
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
WHERE i.indisunique AND c.relnamespace = 'public'::regnamespace
GROUP BY i.indexrelid, c.relname
"""


@dataclass(frozen=True, slots=True)
class Reference:
    table: str
    referenced: str
    columns: tuple[str, ...]


def column_types(conn: Connection) -> dict[str, dict[str, str]]:
    """table → column → type, for every table of the public schema (generated columns left out)."""
    types: dict[str, dict[str, str]] = {}
    for row in conn.execute(_COLUMN_TYPES_SQL).fetchall():
        types.setdefault(row["table_name"], {})[row["column_name"]] = row["type"]
    return types


def references(conn: Connection) -> list[Reference]:
    return [
        Reference(row["table_name"], row["referenced"], tuple(row["columns"]))
        for row in conn.execute(_REFERENCES_SQL).fetchall()
    ]


def unique_keys(conn: Connection) -> dict[str, list[frozenset[str]]]:
    keys: dict[str, list[frozenset[str]]] = {}
    for row in conn.execute(_UNIQUE_KEYS_SQL).fetchall():
        keys.setdefault(row["table_name"], []).append(frozenset(row["columns"]))
    return keys


def use_archive_text_forms(conn: Connection) -> None:
    conn.execute("SELECT app.use_archive_text_forms()")


def schema_version(conn: Connection) -> int:
    row = conn.execute("SELECT app.schema_version() AS version").fetchone()
    return int(row["version"]) if row else 0


def tenant_slug(conn: Connection, *, tenant_id: UUID) -> str | None:
    row = conn.execute("SELECT slug FROM tenants WHERE id = %s", (tenant_id,)).fetchone()
    return None if row is None else str(row["slug"])


def tenant_exists(conn: Connection, *, tenant_id: UUID) -> bool:
    """Whether the tenant's row is there (the transaction is set to that tenant)."""
    return conn.execute("SELECT 1 FROM tenants WHERE id = %s", (tenant_id,)).fetchone() is not None


def slug_taken(conn: Connection, *, slug: str) -> bool:
    row = conn.execute("SELECT app.tenant_id_by_slug(%s) AS id", (slug,)).fetchone()
    return row is not None and row["id"] is not None


def _json_rows_query(select: sql.Composable) -> sql.Composed:
    return sql.SQL("COPY (SELECT to_json(r)::text FROM ({}) r) TO STDOUT").format(select)


def stream_table(
    conn: Connection,
    *,
    table: str,
    columns: Sequence[str],
    tenant_column: str,
    order_by: Sequence[str],
    tenant_id: UUID,
) -> Iterator[str]:
    """The tenant's rows of ``table`` as JSON text, one at a time (COPY: nothing held beyond a chunk)."""
    select = sql.SQL("SELECT {cols} FROM {table} WHERE {tenant} = {tid} ORDER BY {order}").format(
        cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
        table=sql.Identifier(table),
        tenant=sql.Identifier(tenant_column),
        tid=sql.Literal(str(tenant_id)),
        order=sql.SQL(", ").join(map(sql.Identifier, order_by or columns[:1])),
    )
    yield from _copy_out(conn, _json_rows_query(select))


def stream_member_users(conn: Connection, *, columns: Sequence[str], tenant_id: UUID) -> Iterator[str]:
    """The global ``users`` rows of the tenant's members (memberships reference them)."""
    select = sql.SQL(
        "SELECT {cols} FROM users u WHERE EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id"
        " AND m.tenant_id = {tid}) ORDER BY u.id"
    ).format(
        cols=sql.SQL(", ").join(sql.SQL("u.{}").format(sql.Identifier(c)) for c in columns),
        tid=sql.Literal(str(tenant_id)),
    )
    yield from _copy_out(conn, _json_rows_query(select))


def _copy_out(conn: Connection, statement: sql.Composed) -> Iterator[str]:
    with conn.cursor().copy(statement) as copy:
        copy.set_types(["text"])
        for (line,) in copy.rows():
            yield str(line)


def insert_rows(
    conn: Connection, *, table: str, columns: Sequence[str], rows_json: str, on_conflict_skip: bool = False
) -> int:
    """Insert a JSON array of row objects in one statement; returns the rows inserted."""
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    statement = sql.SQL(
        "INSERT INTO {table} ({cols}) SELECT {cols} FROM json_populate_recordset(NULL::{table}, %s::json)"
    ).format(table=sql.Identifier(table), cols=cols)
    if on_conflict_skip:
        statement = sql.SQL("{} ON CONFLICT DO NOTHING").format(statement)
    return conn.execute(statement, (rows_json,)).rowcount


def defer_constraints(conn: Connection) -> None:
    """Check deferrable foreign keys (the self-references) at commit, so rows load in any order."""
    conn.execute("SELECT app.defer_constraints()")
