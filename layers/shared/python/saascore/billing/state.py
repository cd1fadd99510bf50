"""The billing state machine: a Stripe subscription status (plus time) → the tenant's plan and access level.

Pure functions, no Stripe/AWS/database imports. Stripe owns the subscription lifecycle; this module only
decides what each status means for the tenant:

| Stripe status          | plan          | access level                                   |
|------------------------|---------------|------------------------------------------------|
| trialing, active       | subscribed    | full                                           |
| past_due               | subscribed    | grace until the grace period ends, then read_only |
| unpaid, paused         | subscribed    | read_only (data visible, writes refused)      |
| incomplete(_expired)   | free          | full (nothing was paid; the Free plan applies) |
| canceled               | free          | full, or suspended when Stripe canceled it for non-payment |
| (customer deleted)     | free          | suspended                                       |

An event older than the state already applied never changes it, and a canceled subscription never comes
back (Stripe cannot reactivate one), so a late ``updated`` after ``deleted`` stays canceled.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from saascore.billing.plans import FREE, plan_for_price_lookup_key

DEFAULT_GRACE_PERIOD: Final = timedelta(days=7)


class SubscriptionStatus(StrEnum):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    UNPAID = "unpaid"
    CANCELED = "canceled"
    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    PAUSED = "paused"


class AccessLevel(StrEnum):
    FULL = "full"
    GRACE = "grace"  # full access with a payment warning, until the grace period ends
    READ_ONLY = "read_only"
    SUSPENDED = "suspended"


TERMINAL_STATUSES: Final = frozenset({SubscriptionStatus.CANCELED, SubscriptionStatus.INCOMPLETE_EXPIRED})
PAID_STATUSES: Final = frozenset(
    {
        SubscriptionStatus.TRIALING,
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.PAST_DUE,
        SubscriptionStatus.UNPAID,
        SubscriptionStatus.PAUSED,
    }
)
# Stripe's cancellation reason when dunning gave up (Settings → Subscriptions → "cancel the subscription").
NON_PAYMENT_REASON: Final = "payment_failed"


@dataclass(frozen=True, slots=True)
class TenantBilling:
    """The billing summary stored on the tenant row (what the API and the session token read)."""

    plan: str
    billing_status: str
    access_level: AccessLevel
    trial_ends_at: datetime | None = None
    grace_ends_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionState:
    """The parts of a Stripe subscription the state machine needs."""

    status: SubscriptionStatus
    price_lookup_key: str | None
    trial_end: datetime | None = None
    cancellation_reason: str | None = None


def plan_key_for(lookup_key: str | None) -> str:
    """The plan a price lookup key sells; an unknown key gives Free (config drift never grants more)."""
    plan = plan_for_price_lookup_key(lookup_key)
    return plan.key if plan is not None else FREE


def tenant_billing_for(
    subscription: SubscriptionState,
    *,
    previous: TenantBilling,
    now: datetime,
    grace_period: timedelta = DEFAULT_GRACE_PERIOD,
) -> TenantBilling:
    """The tenant's billing summary once ``subscription`` is its governing subscription."""
    status = subscription.status
    plan = plan_key_for(subscription.price_lookup_key) if status in PAID_STATUSES else FREE
    trial_ends_at = subscription.trial_end if status is SubscriptionStatus.TRIALING else None
    grace_ends_at: datetime | None = None
    if status in (SubscriptionStatus.TRIALING, SubscriptionStatus.ACTIVE):
        level = AccessLevel.FULL
    elif status is SubscriptionStatus.PAST_DUE:
        # The grace period starts at the first past_due and is not extended by further retries.
        grace_ends_at = previous.grace_ends_at if previous.grace_ends_at is not None else now + grace_period
        level = AccessLevel.GRACE if now < grace_ends_at else AccessLevel.READ_ONLY
    elif status in (SubscriptionStatus.UNPAID, SubscriptionStatus.PAUSED):
        level = AccessLevel.READ_ONLY
    elif status is SubscriptionStatus.CANCELED and subscription.cancellation_reason == NON_PAYMENT_REASON:
        level = AccessLevel.SUSPENDED
    else:
        level = AccessLevel.FULL
    return TenantBilling(
        plan=plan,
        billing_status=status.value,
        access_level=level,
        trial_ends_at=trial_ends_at,
        grace_ends_at=grace_ends_at,
    )


def customer_deleted(previous: TenantBilling) -> TenantBilling:
    """The Stripe customer was deleted: no billing relationship is left, so the tenant is suspended."""
    return replace(
        previous,
        plan=FREE,
        billing_status=SubscriptionStatus.CANCELED.value,
        access_level=AccessLevel.SUSPENDED,
        trial_ends_at=None,
        grace_ends_at=None,
    )


def effective_access_level(
    stored: AccessLevel | str, grace_ends_at: datetime | None, now: datetime
) -> AccessLevel:
    """The access level to enforce now: a grace period that ended since the last event means read-only.

    The stored level only changes when an event arrives, so readers (API, jobs) call this with the
    tenant row's ``access_level`` and ``billing_grace_ends_at``.
    """
    level = AccessLevel(stored)
    if level is AccessLevel.GRACE and grace_ends_at is not None and now >= grace_ends_at:
        return AccessLevel.READ_ONLY
    return level


def is_stale(event_created: datetime, last_applied: datetime | None) -> bool:
    """True when an event is older than the state already applied (same second: newer wins, FIFO order)."""
    return last_applied is not None and event_created < last_applied


def next_status(current: SubscriptionStatus | str | None, incoming: SubscriptionStatus) -> SubscriptionStatus:
    """Terminal statuses are sticky: a canceled subscription stays canceled whatever arrives later."""
    if current is not None and SubscriptionStatus(current) in TERMINAL_STATUSES:
        return SubscriptionStatus(current)
    return incoming
