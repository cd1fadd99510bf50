"""Platform-operator reports: who may read them, and the business figures of one month.

A platform operator is an owner or admin of a tenant registered in ``app.platform_operators``
(`saas ops operators add`, decision 0091). The database enforces it too: the readers refuse any other
transaction, so a bug here cannot hand business figures to a tenant.
"""

from __future__ import annotations

from datetime import UTC, datetime

from api.exceptions import MalformedRequestError, PermissionDeniedError
from api.repositories import ops as repo
from api.services.access import Access
from saascore.business_metrics import BusinessReport, Month, build_report
from saascore.db.connection import Connection
from saascore.exceptions import InvalidPeriodError

OPERATOR_ROLES = frozenset({"owner", "admin"})


def authorize_operator(conn: Connection, access: Access) -> Access:
    if access.role not in OPERATOR_ROLES or not repo.is_platform_operator(conn):
        raise PermissionDeniedError("operator reports are for platform operators only")
    return access


def report(conn: Connection, *, month: str | None) -> BusinessReport:
    try:
        period = Month.parse(month) if month else Month(datetime.now(UTC).date().replace(day=1))
    except InvalidPeriodError as exc:
        raise MalformedRequestError(str(exc)) from exc
    days = repo.business_daily(conn, first_day=period.first_day, last_day=period.last_day)
    mrr = repo.mrr_monthly(conn, month=period.first_day)
    active = repo.active_users_daily(conn, first_day=period.first_day, last_day=period.last_day)
    return build_report(
        period,
        days=[
            (r["day"], r["signups"], r["stripe_trials_started"], r["first_payments"], r["signups_converted"])
            for r in days
        ],
        mrr=[(r["start_mrr"], r["end_mrr"]) for r in mrr],
        active_users=[(str(r["tenant_id"]), r["day"], r["active_users"]) for r in active],
    )
