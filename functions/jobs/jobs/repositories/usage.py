"""Plain SQL of `report_usage`: usage events grouped into report batches, in the tenant's transaction."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from saascore.db.connection import Connection

ATTACH_SQL = """
WITH picked AS (
    SELECT id, quantity FROM usage_events
    WHERE tenant_id = %(tenant)s AND meter = %(meter)s AND batch_id IS NULL
    ORDER BY occurred_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
), batch AS (
    INSERT INTO usage_report_batches (tenant_id, meter, quantity, event_count, stripe_customer_id)
    SELECT %(tenant)s, %(meter)s, sum(quantity), count(*), %(customer)s FROM picked HAVING count(*) > 0
    RETURNING id
)
UPDATE usage_events SET batch_id = batch.id FROM batch WHERE usage_events.id IN (SELECT id FROM picked)
"""


def customer_id(conn: Connection) -> str | None:
    row = conn.execute("SELECT stripe_customer_id FROM billing_customers WHERE deleted_at IS NULL").fetchone()
    return None if row is None else str(row["stripe_customer_id"])


def unbatched_meters(conn: Connection, *, tenant_id: UUID) -> list[str]:
    rows = conn.execute(
        "SELECT DISTINCT meter FROM usage_events WHERE tenant_id = %s AND batch_id IS NULL", (tenant_id,)
    ).fetchall()
    return [str(row["meter"]) for row in rows]


def attach_batch(conn: Connection, *, tenant_id: UUID, meter: str, limit: int, customer: str) -> None:
    """At most ``limit`` unbatched events of ``meter`` become one new pending batch (none when none)."""
    conn.execute(ATTACH_SQL, {"tenant": tenant_id, "meter": meter, "limit": limit, "customer": customer})


def pending_batches(conn: Connection, *, tenant_id: UUID) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT id, meter, quantity, stripe_customer_id, created_at FROM usage_report_batches "
        "WHERE tenant_id = %s AND status = 'pending' ORDER BY created_at, id",
        (tenant_id,),
    ).fetchall()


def mark_reported(conn: Connection, *, tenant_id: UUID, batch_id: UUID) -> None:
    conn.execute(
        "UPDATE usage_report_batches SET status = 'reported', reported_at = now() WHERE id = %s", (batch_id,)
    )
    conn.execute(
        "UPDATE usage_events SET reported_at = now() WHERE tenant_id = %s AND batch_id = %s",
        (tenant_id, batch_id),
    )
