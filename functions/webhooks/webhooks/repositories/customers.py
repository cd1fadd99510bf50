"""The tenant's Stripe customer row: link it, and apply customer.* events to it (tenant transaction)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from saascore.db.connection import Connection


def link_customer(conn: Connection, *, tenant_id: UUID, customer_id: str, livemode: bool) -> bool:
    """Remember the tenant's customer if it has none yet (one customer per tenant stays enforced); False
    when nothing was written: the customer was linked already, or the tenant has another one."""
    row = conn.execute(
        "INSERT INTO billing_customers (tenant_id, stripe_customer_id, livemode) VALUES (%s, %s, %s) "
        "ON CONFLICT DO NOTHING RETURNING id",
        (tenant_id, customer_id, livemode),
    ).fetchone()
    return row is not None


def customer_last_event(conn: Connection, *, customer_id: str) -> tuple[bool, datetime | None]:
    row = conn.execute(
        "SELECT last_event_created FROM billing_customers WHERE stripe_customer_id = %s FOR UPDATE",
        (customer_id,),
    ).fetchone()
    return (False, None) if row is None else (True, row["last_event_created"])


def update_customer(
    conn: Connection, *, customer_id: str, email: str | None, event_created: datetime, deleted: bool
) -> None:
    conn.execute(
        "UPDATE billing_customers SET email = %s, last_event_created = %s, "
        "deleted_at = CASE WHEN %s THEN now() ELSE deleted_at END WHERE stripe_customer_id = %s",
        (email, event_created, deleted, customer_id),
    )
