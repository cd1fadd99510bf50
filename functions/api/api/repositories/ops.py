"""Plain SQL of the operator reports: the SECURITY DEFINER readers of migration 0400, which answer only in
a platform-operator tenant's transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from saascore.db.connection import Connection


def is_platform_operator(conn: Connection) -> bool:
    row = conn.execute("SELECT app.is_platform_operator() AS operator").fetchone()
    return bool(row and row["operator"])


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
