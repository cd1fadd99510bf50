"""Operator report bodies (`GET /api/v1/ops/report`)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from saascore.business_metrics import BusinessReport


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
