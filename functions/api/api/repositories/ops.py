"""Plain SQL of the operator reports and actions: the SECURITY DEFINER readers of migration 0400 and the
tenant switch of migration 1010, which answer only in a platform-operator tenant's transaction."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from saascore.db.connection import Connection


def is_platform_operator(conn: Connection) -> bool:
    row = conn.execute("SELECT app.is_platform_operator() AS operator").fetchone()
    return bool(row and row["operator"])


def enter_tenant(conn: Connection, *, tenant_id: UUID) -> bool:
    """Switch the operator's transaction to ``tenant_id`` (RLS); False, and nothing switched, when this
    database holds no such tenant."""
    row = conn.execute("SELECT app.ops_enter_tenant(%s) AS entered", (tenant_id,)).fetchone()
    return bool(row and row["entered"])


def return_to_tenant(conn: Connection, *, tenant_id: UUID) -> None:
    """Back to the operator's own tenant, for what the request writes there after acting elsewhere."""
    conn.execute("SELECT app.set_tenant(%s)", (tenant_id,))


def business_daily(conn: Connection, *, first_day: date, last_day: date) -> list[dict[str, Any]]:
    return list(
        conn.execute(
            "SELECT day, signups, stripe_trials_started, first_payments, signups_converted "
            "FROM app.ops_business_daily(%s, %s)",
            (first_day, last_day),
        ).fetchall()
    )


def mrr_monthly(conn: Connection, *, month: date) -> list[dict[str, Any]]:
    return list(conn.execute("SELECT start_mrr, end_mrr FROM app.ops_mrr_monthly(%s)", (month,)).fetchall())


def active_users_daily(conn: Connection, *, first_day: date, last_day: date) -> list[dict[str, Any]]:
    return list(
        conn.execute(
            "SELECT tenant_id, day, active_users FROM app.ops_active_users_daily(%s, %s)",
            (first_day, last_day),
        ).fetchall()
    )
