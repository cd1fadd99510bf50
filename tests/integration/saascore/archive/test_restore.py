"""What a restore relies on in the live schema, checked for every tenant table a migration adds."""

from __future__ import annotations

import psycopg

from saascore.db.tenant_tables import tenant_tables


def test_every_self_reference_of_a_tenant_table_is_deferrable(pg) -> None:
    """Rows load in key order, so a row may precede the row of its own table it references."""
    with psycopg.connect(pg.owner_url, row_factory=psycopg.rows.dict_row) as conn:
        names = [t.name for t in tenant_tables(conn)]
        rows = conn.execute(
            "SELECT conrelid::regclass::text AS table_name, conname, condeferrable FROM pg_constraint"
            " WHERE contype = 'f' AND conrelid = confrelid AND conrelid::regclass::text = ANY(%s)",
            (names,),
        ).fetchall()
    assert rows, "refresh_tokens.replaced_by is a self-reference; the query must find it"
    not_deferrable = [f"{r['table_name']}.{r['conname']}" for r in rows if not r["condeferrable"]]
    assert not not_deferrable, f"make these DEFERRABLE INITIALLY IMMEDIATE in a migration: {not_deferrable}"
