"""Reads and small writes of the tenant's subscriptions for the processor (the upsert itself is shared:
``saascore.billing.repositories.subscriptions``)."""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

from saascore.db.connection import Connection

LIVE_FILTER: Final = "status NOT IN ('canceled', 'incomplete_expired')"


def subscriptions_for_update(
    conn: Connection, *, tenant_id: UUID, subscription_id: str
) -> tuple[dict[str, Any] | None, str | None]:
    """This subscription's row, and the id of another live subscription of the tenant (if any)."""
    rows = conn.execute(
        "SELECT stripe_subscription_id, status, last_event_created FROM subscriptions "
        f"WHERE stripe_subscription_id = %s OR (tenant_id = %s AND {LIVE_FILTER}) FOR UPDATE",
        (subscription_id, tenant_id),
    ).fetchall()
    own = next((dict(r) for r in rows if r["stripe_subscription_id"] == subscription_id), None)
    other = next(
        (r["stripe_subscription_id"] for r in rows if r["stripe_subscription_id"] != subscription_id), None
    )
    return own, other


def set_latest_invoice_status(conn: Connection, *, subscription_id: str, status: str) -> None:
    conn.execute(
        "UPDATE subscriptions SET latest_invoice_status = %s WHERE stripe_subscription_id = %s",
        (status, subscription_id),
    )
