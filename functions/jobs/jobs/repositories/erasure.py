"""The SQL of tenant erasure, all through the 0603 functions (each refuses a tenant that is not due)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from saascore.db.connection import Connection


def tenants_due(conn: Connection, *, limit: int) -> list[UUID]:
    rows = conn.execute("SELECT id FROM app.tenants_due_for_erasure(%s) AS id", (limit,)).fetchall()
    return [row["id"] for row in rows]


def erasure_request(conn: Connection, *, tenant_id: UUID) -> dict[str, Any] | None:
    """Who moved the tenant into offboarding, and its Stripe customer (the transaction's tenant)."""
    return conn.execute(
        "SELECT t.lifecycle_changed_by AS requested_by,"
        " (SELECT stripe_customer_id FROM billing_customers b WHERE b.tenant_id = t.id) AS stripe_customer_id"
        " FROM tenants t WHERE t.id = %s",
        (tenant_id,),
    ).fetchone()


def begin(conn: Connection, *, requested_by: str, stripe_customer_id: str | None) -> dict[str, Any]:
    row = conn.execute(
        "SELECT * FROM app.begin_erasure(%s, %s)", (requested_by, stripe_customer_id)
    ).fetchone()
    assert row is not None, "app.begin_erasure returns the receipt it started or found"
    return row


def erase_rows(conn: Connection, *, table: str) -> int:
    row = conn.execute("SELECT app.erase_tenant_rows(%s) AS deleted", (table,)).fetchone()
    return int(row["deleted"]) if row else 0


def complete(
    conn: Connection, *, row_counts: Mapping[str, int], completed_at: datetime, signature: str
) -> None:
    conn.execute(
        "SELECT app.complete_erasure(%s, %s, %s)", (Jsonb(dict(row_counts)), completed_at, signature)
    )


def member_user_ids(conn: Connection) -> list[UUID]:
    """The users the transaction's tenant has (or invited) as members."""
    rows = conn.execute("SELECT DISTINCT user_id FROM memberships WHERE user_id IS NOT NULL").fetchall()
    return [row["user_id"] for row in rows]


def erase_member_identities(conn: Connection, *, user_ids: list[UUID]) -> int:
    row = conn.execute("SELECT app.erase_member_identities(%s) AS deleted", (user_ids,)).fetchone()
    return int(row["deleted"]) if row else 0
