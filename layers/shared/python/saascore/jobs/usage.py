"""Usage events: recording with a client idempotency key under the plan's monthly limits, and the
batches `report_usage` sends to Stripe Billing Meters. SQL runs in the caller's tenant transaction.

Limits count units (the sum of `quantity`) across meters in the current UTC calendar month. Recording
takes a transaction-scoped advisory lock per tenant, so concurrent requests cannot both slip past the
hard limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from saascore.billing.plans import Entitlements
from saascore.db.connection import Connection
from saascore.jobs.errors import JobError


class UsageLimitExceededError(JobError):
    """Recording this usage would pass the plan's hard limit; nothing was recorded."""

    def __init__(self, status: UsageStatus) -> None:
        super().__init__(f"the plan allows {status.hard_limit} units a month; {status.used} are used")
        self.status = status


class UsageKeyConflictError(JobError):
    """The idempotency key was used before for a different meter or quantity."""


@dataclass(frozen=True, slots=True)
class UsageStatus:
    period_start: datetime
    used: int
    soft_limit: int | None
    hard_limit: int | None

    @property
    def soft_limit_reached(self) -> bool:
        return self.soft_limit is not None and self.used >= self.soft_limit


@dataclass(frozen=True, slots=True)
class RecordedUsage:
    event: dict[str, Any]
    status: UsageStatus
    replayed: bool


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def decide(*, used: int, quantity: int, entitlements: Entitlements) -> bool:
    """True when ``quantity`` more units fit under the hard limit (None = unlimited)."""
    hard = entitlements.usage_hard_limit
    return hard is None or used + quantity <= hard


EVENT_COLUMNS = "id, meter, quantity, idempotency_key, occurred_at, created_at"


def record_usage(
    conn: Connection,
    *,
    tenant_id: UUID,
    user_id: UUID | None,
    meter: str,
    quantity: int,
    idempotency_key: str,
    entitlements: Entitlements,
    now: datetime | None = None,
) -> RecordedUsage:
    period = month_start(now or datetime.now(UTC))
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('usage:' || %s::text, 0))", (tenant_id,))
    existing = conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM usage_events WHERE tenant_id = %s AND idempotency_key = %s",
        (tenant_id, idempotency_key),
    ).fetchone()
    used = used_units(conn, tenant_id=tenant_id, since=period)
    if existing is not None:
        if (existing["meter"], existing["quantity"]) != (meter, quantity):
            raise UsageKeyConflictError("this idempotency key was used for a different usage event")
        return RecordedUsage(existing, _status(period, used, entitlements), replayed=True)
    if not decide(used=used, quantity=quantity, entitlements=entitlements):
        raise UsageLimitExceededError(_status(period, used, entitlements))
    event = conn.execute(
        "INSERT INTO usage_events (tenant_id, meter, quantity, idempotency_key, recorded_by) "
        f"VALUES (%s, %s, %s, %s, %s) RETURNING {EVENT_COLUMNS}",
        (tenant_id, meter, quantity, idempotency_key, user_id),
    ).fetchone()
    assert event is not None
    return RecordedUsage(event, _status(period, used + quantity, entitlements), replayed=False)


def used_units(conn: Connection, *, tenant_id: UUID, since: datetime) -> int:
    row = conn.execute(
        "SELECT coalesce(sum(quantity), 0)::bigint AS used FROM usage_events WHERE tenant_id = %s AND occurred_at >= %s",
        (tenant_id, since),
    ).fetchone()
    return int(row["used"]) if row else 0


def usage_status(
    conn: Connection, *, tenant_id: UUID, entitlements: Entitlements, now: datetime | None = None
) -> UsageStatus:
    period = month_start(now or datetime.now(UTC))
    return _status(period, used_units(conn, tenant_id=tenant_id, since=period), entitlements)


def monthly_usage(conn: Connection) -> list[dict[str, Any]]:
    """The current tenant's monthly totals from the reporting view (as of its last refresh)."""
    return conn.execute("SELECT meter, month, quantity, events FROM app.tenant_usage_monthly()").fetchall()


def _status(period: datetime, used: int, entitlements: Entitlements) -> UsageStatus:
    return UsageStatus(
        period_start=period,
        used=used,
        soft_limit=entitlements.usage_soft_limit,
        hard_limit=entitlements.usage_hard_limit,
    )
