"""Platform operators: who they are, the business figures of one month, and lifecycle actions on a tenant.

A platform operator is an owner or admin of a tenant registered in ``app.platform_operators``
(`saas ops operators add`, decision 0091). The database enforces it too: the readers and the tenant switch
refuse any other transaction, so a bug here cannot hand business figures to a tenant or let one act on
another (decision 0113).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from api.exceptions import (
    ConflictError,
    LifecycleTransitionError,
    MalformedRequestError,
    NotFoundError,
    PermissionDeniedError,
)
from api.repositories import ops as repo
from api.services import audit
from api.services.access import Access
from api.services.audit import AuditActor
from saascore.business_metrics import BusinessReport, Month, build_report
from saascore.db.connection import Connection
from saascore.exceptions import InvalidPeriodError
from saascore.lifecycle.exceptions import TransitionNotAllowedError
from saascore.lifecycle.settings import get_lifecycle_settings
from saascore.lifecycle.states import Action, Transition
from saascore.lifecycle.transitions import apply_operator_action, lifecycle_document

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


def operator_name(access: Access) -> str:
    """How the tenant's audit log names the operator who acted (its `after.requested_by`)."""
    principal = access.principal
    return f"platform operator {principal.user_id} of tenant {principal.tenant_id}"


def act_on_tenant(
    conn: Connection,
    access: Access,
    actor: AuditActor,
    *,
    tenant_id: uuid.UUID,
    action: Action,
    note: str | None,
    grace_days: int | None,
    now: datetime,
) -> Transition:
    """The operator's ``action`` on another tenant, in the request's transaction: switched to the tenant
    (``app.ops_enter_tenant``), the transition applied as `saas tenants` applies it (row lock, audit entry
    naming the operator, ``tenant.*`` event), then back in the operator's tenant to audit it there too."""
    own = access.principal.tenant_id
    if tenant_id == own:
        raise ConflictError(
            "an operator does not act on its own tenant through the API; use `saas tenants` for it"
        )
    grace = (
        timedelta(days=grace_days)
        if grace_days is not None
        else get_lifecycle_settings().erasure_grace_period
    )
    if not repo.enter_tenant(conn, tenant_id=tenant_id):
        raise NotFoundError(f"no tenant {tenant_id} in the operators' cell")
    try:
        transition = apply_operator_action(
            conn,
            tenant_id=tenant_id,
            action=action,
            requested_by=operator_name(access),
            now=now,
            grace_period=grace,
            note=note,
        )
    except TransitionNotAllowedError as exc:
        raise LifecycleTransitionError(
            str(exc), lifecycle_state=exc.current, lifecycle_hold=exc.hold
        ) from exc
    repo.return_to_tenant(conn, tenant_id=own)
    if transition.changed:
        audit.record(
            conn,
            actor,
            action=f"ops.{transition.audit_action}",
            resource_type="tenant",
            resource_id=tenant_id,
            before=lifecycle_document(transition.before),
            after=lifecycle_document(transition.after),
        )
    return transition
