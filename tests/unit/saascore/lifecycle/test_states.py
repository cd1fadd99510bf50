from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from saascore.billing.state import AccessLevel
from saascore.lifecycle.exceptions import TransitionNotAllowedError
from saascore.lifecycle.states import (
    Action,
    Hold,
    Lifecycle,
    LifecycleState,
    billing_transition,
    describe,
    operator_transition,
)

TENANT = uuid.UUID("00000000-0000-4000-8000-000000000001")
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
GRACE = timedelta(days=30)
ACTIVE = Lifecycle(LifecycleState.ACTIVE)
OPERATOR_HOLD = Lifecycle(LifecycleState.SUSPENDED, Hold.OPERATOR)
BILLING_HOLD = Lifecycle(LifecycleState.SUSPENDED, Hold.BILLING)
OFFBOARDING = Lifecycle(LifecycleState.OFFBOARDING, erase_after=NOW + GRACE)
ERASED = Lifecycle(LifecycleState.ERASED)


def act(current: Lifecycle, action: Action, billing: AccessLevel = AccessLevel.FULL, now: datetime = NOW):
    return operator_transition(TENANT, current, action, billing_access=billing, now=now, grace_period=GRACE)


@pytest.mark.parametrize(
    ("current", "action", "billing", "expected", "audit"),
    [
        (ACTIVE, Action.SUSPEND, AccessLevel.FULL, OPERATOR_HOLD, "tenant.suspended"),
        (BILLING_HOLD, Action.SUSPEND, AccessLevel.SUSPENDED, OPERATOR_HOLD, "tenant.suspended"),
        (OPERATOR_HOLD, Action.REACTIVATE, AccessLevel.FULL, ACTIVE, "tenant.reactivated"),
        # The operator lifts only its own hold: an unpaid bill still suspends the tenant.
        (OPERATOR_HOLD, Action.REACTIVATE, AccessLevel.SUSPENDED, BILLING_HOLD, "tenant.reactivated"),
        (ACTIVE, Action.OFFBOARD, AccessLevel.FULL, OFFBOARDING, "tenant.offboarding_started"),
        (OPERATOR_HOLD, Action.OFFBOARD, AccessLevel.FULL, OFFBOARDING, "tenant.offboarding_started"),
        (OFFBOARDING, Action.REACTIVATE, AccessLevel.FULL, ACTIVE, "tenant.offboarding_canceled"),
    ],
)
def test_allowed_transitions(current, action, billing, expected, audit) -> None:
    transition = act(current, action, billing)
    assert (transition.after, transition.audit_action, transition.changed) == (expected, audit, True)
    assert transition.before == current


@pytest.mark.parametrize(
    ("current", "action"),
    [(ACTIVE, Action.REACTIVATE), (OPERATOR_HOLD, Action.SUSPEND), (OFFBOARDING, Action.OFFBOARD)],
)
def test_repeating_a_transition_changes_nothing(current, action) -> None:
    transition = act(current, action)
    assert not transition.changed
    assert transition.after == current
    # A repeated offboard keeps the first erasure date rather than extending the grace period.
    assert act(current, action, now=NOW + timedelta(days=3)).after == current


@pytest.mark.parametrize(
    ("current", "action", "named"),
    [
        (OFFBOARDING, Action.SUSPEND, "it is offboarding"),
        (BILLING_HOLD, Action.REACTIVATE, "it is suspended (held by billing)"),
        (ERASED, Action.REACTIVATE, "it is erased"),
        (
            Lifecycle(LifecycleState.OFFBOARDING, erase_after=NOW),
            Action.REACTIVATE,
            "it is offboarding; its grace period is over",
        ),
        (ERASED, Action.SUSPEND, "it is erased"),
        (ERASED, Action.OFFBOARD, "it is erased"),
    ],
)
def test_transitions_not_allowed_name_the_current_state(current, action, named) -> None:
    with pytest.raises(TransitionNotAllowedError) as raised:
        act(current, action, AccessLevel.SUSPENDED if current.hold is Hold.BILLING else AccessLevel.FULL)
    assert named in str(raised.value)
    assert raised.value.current == current.state.value


@pytest.mark.parametrize(
    ("current", "access", "expected"),
    [
        (ACTIVE, AccessLevel.SUSPENDED, BILLING_HOLD),
        (BILLING_HOLD, AccessLevel.FULL, ACTIVE),
        (BILLING_HOLD, AccessLevel.READ_ONLY, ACTIVE),  # read-only is an access level of an active tenant
        (BILLING_HOLD, AccessLevel.SUSPENDED, BILLING_HOLD),
        (ACTIVE, AccessLevel.READ_ONLY, ACTIVE),
        # Billing never lifts an operator's hold, cancels an offboarding or touches an erased tenant.
        (OPERATOR_HOLD, AccessLevel.FULL, OPERATOR_HOLD),
        (OPERATOR_HOLD, AccessLevel.SUSPENDED, OPERATOR_HOLD),
        (OFFBOARDING, AccessLevel.SUSPENDED, OFFBOARDING),
        (OFFBOARDING, AccessLevel.FULL, OFFBOARDING),
        (ERASED, AccessLevel.FULL, ERASED),
    ],
)
def test_billing_places_and_lifts_only_its_own_hold(current, access, expected) -> None:
    assert billing_transition(current, access).after == expected


def test_describe_names_the_hold_of_a_suspension():
    assert describe(Lifecycle(LifecycleState.SUSPENDED, Hold.BILLING)) == "suspended (held by billing)"
    assert describe(Lifecycle(LifecycleState.ACTIVE)) == "active"
