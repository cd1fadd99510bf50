"""Usage: recording with a client idempotency key under the plan's monthly limits, and monthly totals.

Limits count units (the sum of ``quantity``) across meters in the current UTC calendar month. The
client's idempotency key is the event's natural key, so a retried POST returns the recorded event
instead of counting twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from api.exceptions import MalformedRequestError, UsageKeyConflictError, UsageLimitExceededError
from api.repositories import usage as repo
from api.schemas.usage import MonthlyUsage, UsageEvent, UsageOverview, UsageSummary
from saascore.billing.plans import Entitlements
from saascore.db.connection import Connection
from saascore.metrics import record_usage_against_limit


@dataclass(frozen=True, slots=True)
class UsageStatus:
    period_start: datetime
    used: int
    soft_limit: int | None
    hard_limit: int | None

    @property
    def soft_limit_reached(self) -> bool:
        return self.soft_limit is not None and self.used >= self.soft_limit

    def summary(self) -> UsageSummary:
        return UsageSummary(
            period_start=self.period_start,
            used=self.used,
            soft_limit=self.soft_limit,
            hard_limit=self.hard_limit,
            soft_limit_reached=self.soft_limit_reached,
        )


@dataclass(frozen=True, slots=True)
class RecordedUsage:
    event: dict[str, Any]
    status: UsageStatus
    replayed: bool

    def view(self) -> UsageEvent:
        return UsageEvent(
            id=self.event["id"],
            meter=self.event["meter"],
            quantity=self.event["quantity"],
            idempotency_key=self.event["idempotency_key"],
            occurred_at=self.event["occurred_at"],
            usage=self.status.summary(),
        )


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def decide(*, used: int, quantity: int, entitlements: Entitlements) -> bool:
    """True when ``quantity`` more units fit under the hard limit (None = unlimited)."""
    hard = entitlements.usage_hard_limit
    return hard is None or used + quantity <= hard


def idempotency_key(*, header: str | None, field: str | None) -> str:
    """The event's key, from the ``Idempotency-Key`` header or the body's field (equal when both)."""
    key = header or field
    if not key:
        raise MalformedRequestError("an Idempotency-Key header or idempotency_key field is required")
    if header and field and header != field:
        raise MalformedRequestError("the Idempotency-Key header and idempotency_key field differ")
    return key


def record_usage(
    conn: Connection,
    *,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID | None,
    meter: str,
    quantity: int,
    idempotency_key: str,
    entitlements: Entitlements,
    plan: str,
    now: datetime | None = None,
) -> RecordedUsage:
    period = month_start(now or datetime.now(UTC))
    repo.serialize_recording(conn, tenant_id=tenant_id)
    existing = repo.event_by_key(conn, tenant_id=tenant_id, idempotency_key=idempotency_key)
    used = repo.used_units(conn, tenant_id=tenant_id, since=period)
    if existing is not None:
        if (existing["meter"], existing["quantity"]) != (meter, quantity):
            raise UsageKeyConflictError("this idempotency key was used for a different usage event")
        return RecordedUsage(existing, _status(period, used, entitlements), replayed=True)
    if not decide(used=used, quantity=quantity, entitlements=entitlements):
        assert entitlements.usage_hard_limit is not None  # decide() refuses only under a hard limit
        record_usage_against_limit(
            plan=plan,
            used=used,
            hard_limit=entitlements.usage_hard_limit,
            refused=True,
            tenant_id=tenant_id,
            meter=meter,
        )
        raise UsageLimitExceededError(used=used, hard_limit=entitlements.usage_hard_limit)
    event = repo.insert_event(
        conn,
        tenant_id=tenant_id,
        meter=meter,
        quantity=quantity,
        idempotency_key=idempotency_key,
        user_id=user_id,
    )
    record_usage_against_limit(
        plan=plan,
        used=used + quantity,
        hard_limit=entitlements.usage_hard_limit,
        refused=False,
        tenant_id=tenant_id,
        meter=meter,
    )
    return RecordedUsage(event, _status(period, used + quantity, entitlements), replayed=False)


def usage_status(
    conn: Connection, *, tenant_id: uuid.UUID, entitlements: Entitlements, now: datetime | None = None
) -> UsageStatus:
    period = month_start(now or datetime.now(UTC))
    return _status(period, repo.used_units(conn, tenant_id=tenant_id, since=period), entitlements)


def overview(conn: Connection, *, tenant_id: uuid.UUID, entitlements: Entitlements) -> UsageOverview:
    return UsageOverview(
        current=usage_status(conn, tenant_id=tenant_id, entitlements=entitlements).summary(),
        months=[MonthlyUsage(**row) for row in repo.monthly_totals(conn)],
    )


def _status(period: datetime, used: int, entitlements: Entitlements) -> UsageStatus:
    return UsageStatus(
        period_start=period,
        used=used,
        soft_limit=entitlements.usage_soft_limit,
        hard_limit=entitlements.usage_hard_limit,
    )
