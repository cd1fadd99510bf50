"""Billing: plain SQL over tenants, billing_customers and subscriptions, in the caller's tenant transaction."""

from __future__ import annotations

import uuid
from typing import Any, Final

from saascore.db.connection import Connection

LIVE_FILTER: Final = "status NOT IN ('canceled', 'incomplete_expired')"


def lock_tenant(conn: Connection, *, tenant_id: uuid.UUID) -> dict[str, Any] | None:
    """The tenant row, locked so one tenant's billing requests serialise."""
    return conn.execute(
        "SELECT id, name, slug, plan, billing_status, access_level, trial_ends_at, billing_grace_ends_at"
        " FROM tenants WHERE id = %s FOR UPDATE",
        (tenant_id,),
    ).fetchone()


def billing_state(conn: Connection, *, tenant_id: uuid.UUID) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT plan, billing_status, access_level, trial_ends_at, billing_grace_ends_at FROM tenants WHERE id = %s",
        (tenant_id,),
    ).fetchone()


def latest_subscription(conn: Connection, *, tenant_id: uuid.UUID) -> dict[str, Any] | None:
    """The live subscription, else the most recent ended one."""
    return conn.execute(
        "SELECT stripe_subscription_id AS id, status, plan, current_period_end, cancel_at_period_end,"
        " latest_invoice_status FROM subscriptions WHERE tenant_id = %s"
        f" ORDER BY ({LIVE_FILTER}) DESC, stripe_created DESC LIMIT 1",
        (tenant_id,),
    ).fetchone()


def live_subscription(conn: Connection, *, tenant_id: uuid.UUID) -> dict[str, Any] | None:
    return conn.execute(
        "SELECT stripe_subscription_id, stripe_item_id, plan, status FROM subscriptions"
        f" WHERE tenant_id = %s AND {LIVE_FILTER}",
        (tenant_id,),
    ).fetchone()


def customer_id(conn: Connection, *, tenant_id: uuid.UUID) -> str | None:
    row = conn.execute(
        "SELECT stripe_customer_id FROM billing_customers WHERE tenant_id = %s AND deleted_at IS NULL",
        (tenant_id,),
    ).fetchone()
    return None if row is None else str(row["stripe_customer_id"])


def insert_customer(
    conn: Connection, *, tenant_id: uuid.UUID, stripe_customer_id: str, livemode: bool
) -> None:
    conn.execute(
        "INSERT INTO billing_customers (tenant_id, stripe_customer_id, livemode) VALUES (%s, %s, %s)",
        (tenant_id, stripe_customer_id, livemode),
    )
