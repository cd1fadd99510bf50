"""Operator bodies: the report (`GET /api/v1/ops/report`) and lifecycle actions on a tenant."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, Field

from api.schemas.common import RequestModel
from saascore.business_metrics import BusinessReport
from saascore.lifecycle.states import (
    MAX_GRACE_DAYS,
    MAX_NOTE_CHARS,
    Action,
    Hold,
    Lifecycle,
    LifecycleState,
    Transition,
    describe,
)


class MrrMovementsView(BaseModel):
    start: int
    end: int
    new: int
    expansion: int
    contraction: int
    churn: int
    net: int
    paying_tenants: int


class DayView(BaseModel):
    day: date
    signups: int
    stripe_trials_started: int
    first_payments: int
    signups_converted: int


class ActiveUsersView(BaseModel):
    tenant_id: str
    day: date
    active_users: int


class OpsReport(BaseModel):
    """One UTC month; MRR in minor units of the price currency, movements net per tenant."""

    month: str
    signups: int
    stripe_trials_started: int
    first_payments: int
    trial_to_paid_rate: float | None
    mrr: MrrMovementsView
    days: list[DayView]
    active_users: list[ActiveUsersView]

    @classmethod
    def of(cls, report: BusinessReport) -> OpsReport:
        m = report.mrr
        return cls(
            month=str(report.month),
            signups=report.signups,
            stripe_trials_started=report.stripe_trials_started,
            first_payments=report.first_payments,
            trial_to_paid_rate=report.trial_to_paid_rate,
            mrr=MrrMovementsView(
                start=m.start,
                end=m.end,
                new=m.new,
                expansion=m.expansion,
                contraction=m.contraction,
                churn=m.churn,
                net=m.net,
                paying_tenants=m.paying_tenants,
            ),
            days=[DayView(**vars_of(d)) for d in report.days],
            active_users=[ActiveUsersView(**vars_of(a)) for a in report.active_users],
        )


def vars_of(value: object) -> dict[str, object]:
    return {name: getattr(value, name) for name in value.__slots__}  # type: ignore[attr-defined]


LifecycleNote = Annotated[
    str | None,
    Field(min_length=1, max_length=MAX_NOTE_CHARS, description="why (kept with the state and audited)"),
]


class TenantActionRequest(RequestModel):
    """Body of `POST /api/v1/ops/tenants/{tenant_id}/suspend|reactivate` (optional)."""

    note: LifecycleNote = None


class TenantOffboardRequest(TenantActionRequest):
    """Body of `POST /api/v1/ops/tenants/{tenant_id}/offboard` (optional)."""

    grace_days: int | None = Field(
        default=None,
        ge=0,
        le=MAX_GRACE_DAYS,
        description="days until erasure (default $LIFECYCLE_ERASURE_GRACE_DAYS, else 30)",
    )


class LifecycleView(BaseModel):
    state: LifecycleState
    hold: Hold | None
    erase_after: datetime | None
    note: str | None

    @classmethod
    def of(cls, lifecycle: Lifecycle) -> LifecycleView:
        return cls(
            state=lifecycle.state,
            hold=lifecycle.hold,
            erase_after=lifecycle.erase_after,
            note=lifecycle.note,
        )


class TenantLifecycle(BaseModel):
    """The tenant's lifecycle after an operator's action; ``changed`` is false for a repeat."""

    tenant_id: uuid.UUID
    action: Action
    changed: bool
    detail: str
    lifecycle: LifecycleView
    previous: LifecycleView

    @classmethod
    def of(cls, tenant_id: uuid.UUID, action: Action, transition: Transition) -> TenantLifecycle:
        after = describe(transition.after)
        detail = (
            f"{transition.before.state.value} -> {after}"
            if transition.changed
            else f"already {after}; nothing changed"
        )
        return cls(
            tenant_id=tenant_id,
            action=action,
            changed=transition.changed,
            detail=detail,
            lifecycle=LifecycleView.of(transition.after),
            previous=LifecycleView.of(transition.before),
        )
