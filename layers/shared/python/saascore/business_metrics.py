"""Business figures from the reporting views (migration 0400): MRR movements and the report period.

Shared by the operator API and `saas ops report`, so both print the same numbers. MRR is in minor units of
the price currency. Movements are net per tenant per month (its MRR at the month's end against its start):
new (0 -> >0), expansion (up), contraction (down, still paying), churn (>0 -> 0); a tenant that starts
and cancels inside one month moves nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from saascore.exceptions import InvalidPeriodError

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True, slots=True)
class Month:
    first_day: date

    @classmethod
    def parse(cls, text: str) -> Month:
        match = MONTH.match(text)
        if match is None:
            raise InvalidPeriodError(f"{text!r} is not a month: use YYYY-MM, e.g. 2026-11")
        return cls(date(int(match[1]), int(match[2]), 1))

    @property
    def last_day(self) -> date:
        return (self.first_day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)

    def __str__(self) -> str:
        return self.first_day.strftime("%Y-%m")


@dataclass(frozen=True, slots=True)
class MrrMovements:
    start: int
    end: int
    new: int
    expansion: int
    contraction: int
    churn: int
    paying_tenants: int

    @property
    def net(self) -> int:
        return self.new + self.expansion - self.contraction - self.churn


def mrr_movements(rows: Iterable[tuple[int, int]]) -> MrrMovements:
    """Movements of a month from each tenant's (start MRR, end MRR)."""
    start = end = new = expansion = contraction = churn = paying = 0
    for before, after in rows:
        start += before
        end += after
        paying += after > 0
        if before == 0 and after > 0:
            new += after
        elif before > 0 and after == 0:
            churn += before
        elif after > before:
            expansion += after - before
        else:
            contraction += before - after
    return MrrMovements(start, end, new, expansion, contraction, churn, paying)


@dataclass(frozen=True, slots=True)
class DayFigures:
    day: date
    signups: int
    stripe_trials_started: int
    first_payments: int
    signups_converted: int


@dataclass(frozen=True, slots=True)
class ActiveUsers:
    tenant_id: str
    day: date
    active_users: int


@dataclass(frozen=True, slots=True)
class BusinessReport:
    month: Month
    days: tuple[DayFigures, ...]
    mrr: MrrMovements
    active_users: tuple[ActiveUsers, ...]

    @property
    def signups(self) -> int:
        return sum(d.signups for d in self.days)

    @property
    def stripe_trials_started(self) -> int:
        return sum(d.stripe_trials_started for d in self.days)

    @property
    def first_payments(self) -> int:
        return sum(d.first_payments for d in self.days)

    @property
    def trial_to_paid_rate(self) -> float | None:
        """Share of the month's sign-ups (each a platform trial) that have paid since; None without any."""
        converted = sum(d.signups_converted for d in self.days)
        return round(converted / self.signups, 4) if self.signups else None


def build_report(
    month: Month,
    *,
    days: Iterable[tuple[date, int, int, int, int]],
    mrr: Iterable[tuple[int, int]],
    active_users: Iterable[tuple[str, date, int]],
) -> BusinessReport:
    return BusinessReport(
        month=month,
        days=tuple(DayFigures(*row) for row in days),
        mrr=mrr_movements(mrr),
        active_users=tuple(ActiveUsers(str(t), d, n) for t, d, n in active_users),
    )


def format_report(report: BusinessReport, *, currency: str = "minor units") -> str:
    mrr = report.mrr
    rate = "n/a" if report.trial_to_paid_rate is None else f"{report.trial_to_paid_rate:.1%}"
    lines = [
        f"business report {report.month} (UTC; MRR in {currency})",
        f"sign-ups (platform trials)  {report.signups}",
        f"Stripe trials started       {report.stripe_trials_started}",
        f"first payments              {report.first_payments}",
        f"trial -> paid (cohort)      {rate}",
        f"MRR start                   {mrr.start}",
        f"  + new                     {mrr.new}",
        f"  + expansion               {mrr.expansion}",
        f"  - contraction             {mrr.contraction}",
        f"  - churn                   {mrr.churn}",
        f"MRR end                     {mrr.end}  (net {mrr.net:+d}, {mrr.paying_tenants} paying tenants)",
        "active users per tenant per day:",
    ]
    lines += [f"  {a.day}  {a.tenant_id}  {a.active_users}" for a in report.active_users] or ["  none"]
    return "\n".join(lines)
