"""The billing state machine: every Stripe status → plan and access level, grace expiry, ordering rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from saascore.billing.plans import FREE
from saascore.billing.state import (
    AccessLevel,
    SubscriptionState,
    SubscriptionStatus,
    TenantBilling,
    customer_deleted,
    effective_access_level,
    is_stale,
    next_status,
    plan_key_for,
    tenant_billing_for,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
FRESH = TenantBilling(plan=FREE, billing_status="trialing", access_level=AccessLevel.FULL)
GRACE = timedelta(days=7)


@pytest.mark.parametrize(
    ("status", "reason", "plan", "level"),
    [
        ("trialing", None, "pro", AccessLevel.FULL),
        ("active", None, "pro", AccessLevel.FULL),
        ("past_due", None, "pro", AccessLevel.GRACE),
        ("unpaid", None, "pro", AccessLevel.READ_ONLY),
        ("paused", None, "pro", AccessLevel.READ_ONLY),
        ("incomplete", None, FREE, AccessLevel.FULL),
        ("incomplete_expired", None, FREE, AccessLevel.FULL),
        ("canceled", "cancellation_requested", FREE, AccessLevel.FULL),
        ("canceled", "payment_failed", FREE, AccessLevel.SUSPENDED),
    ],
)
def test_every_stripe_status_maps_to_a_plan_and_access_level(status, reason, plan, level) -> None:
    state = SubscriptionState(SubscriptionStatus(status), "pro_monthly", cancellation_reason=reason)
    billing = tenant_billing_for(state, previous=FRESH, now=NOW, grace_period=GRACE)
    assert (billing.plan, billing.access_level, billing.billing_status) == (plan, level, status)


def test_the_table_covers_every_status_stripe_has() -> None:
    assert {s.value for s in SubscriptionStatus} == {
        "trialing",
        "active",
        "past_due",
        "unpaid",
        "canceled",
        "incomplete",
        "incomplete_expired",
        "paused",
    }


def test_trial_end_is_kept_only_while_trialing() -> None:
    trial_end = NOW + timedelta(days=3)
    trialing = SubscriptionState(SubscriptionStatus.TRIALING, "starter_monthly", trial_end=trial_end)
    active = SubscriptionState(SubscriptionStatus.ACTIVE, "starter_monthly", trial_end=trial_end)
    assert tenant_billing_for(trialing, previous=FRESH, now=NOW).trial_ends_at == trial_end
    assert tenant_billing_for(active, previous=FRESH, now=NOW).trial_ends_at is None


def test_past_due_grace_starts_once_and_expires_into_read_only() -> None:
    past_due = SubscriptionState(SubscriptionStatus.PAST_DUE, "starter_monthly")
    first = tenant_billing_for(past_due, previous=FRESH, now=NOW, grace_period=GRACE)
    assert first.access_level is AccessLevel.GRACE
    assert first.grace_ends_at == NOW + GRACE
    # A later retry failure does not extend the grace period...
    retry = tenant_billing_for(past_due, previous=first, now=NOW + timedelta(days=3), grace_period=GRACE)
    assert retry.grace_ends_at == NOW + GRACE
    assert retry.access_level is AccessLevel.GRACE
    # ...and an event after it ended stores read_only.
    late = tenant_billing_for(past_due, previous=first, now=NOW + GRACE, grace_period=GRACE)
    assert late.access_level is AccessLevel.READ_ONLY
    # Paying again clears the grace period.
    paid = tenant_billing_for(
        SubscriptionState(SubscriptionStatus.ACTIVE, "starter_monthly"), previous=late, now=NOW + GRACE
    )
    assert (paid.access_level, paid.grace_ends_at) == (AccessLevel.FULL, None)


def test_grace_period_length_is_configurable() -> None:
    past_due = SubscriptionState(SubscriptionStatus.PAST_DUE, "starter_monthly")
    billing = tenant_billing_for(past_due, previous=FRESH, now=NOW, grace_period=timedelta(days=2))
    assert billing.grace_ends_at == NOW + timedelta(days=2)


def test_effective_access_level_expires_grace_without_an_event() -> None:
    ends = NOW + GRACE
    assert effective_access_level("grace", ends, NOW) is AccessLevel.GRACE
    assert effective_access_level("grace", ends, ends) is AccessLevel.READ_ONLY
    assert effective_access_level("full", None, ends) is AccessLevel.FULL
    assert effective_access_level(AccessLevel.SUSPENDED, None, NOW) is AccessLevel.SUSPENDED


def test_plan_comes_from_the_price_lookup_key_and_unknown_keys_give_free() -> None:
    assert plan_key_for("starter_monthly") == "starter"
    assert plan_key_for("pro_monthly") == "pro"
    assert plan_key_for("enterprise_yearly") == FREE
    assert plan_key_for(None) == FREE


def test_customer_deleted_suspends() -> None:
    billing = customer_deleted(TenantBilling("pro", "active", AccessLevel.FULL))
    assert (billing.plan, billing.access_level, billing.billing_status) == (
        FREE,
        AccessLevel.SUSPENDED,
        "canceled",
    )


def test_staleness_uses_created_and_same_second_applies() -> None:
    assert is_stale(NOW - timedelta(seconds=1), NOW)
    assert not is_stale(NOW, NOW)
    assert not is_stale(NOW, None)


@pytest.mark.parametrize("incoming", list(SubscriptionStatus))
def test_canceled_is_terminal(incoming) -> None:
    assert next_status("canceled", incoming) is SubscriptionStatus.CANCELED
    assert (
        next_status(SubscriptionStatus.INCOMPLETE_EXPIRED, incoming) is SubscriptionStatus.INCOMPLETE_EXPIRED
    )
    assert next_status("active", incoming) is incoming
    assert next_status(None, incoming) is incoming
