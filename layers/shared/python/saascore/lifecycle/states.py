"""The lifecycle state machine, pure: which transitions exist, what each does, and how billing maps onto it.

```
active ──suspend──► suspended ──reactivate──► active
active | suspended ──offboard──► offboarding ──reactivate (cancel)──► active
offboarding ──erase (after the grace period)──► erased
```

A suspension has a *hold*: ``operator`` (``saas tenants suspend``) or ``billing`` (Stripe moved the
tenant's access level to ``suspended``). Each side lifts only its own hold, so paying an invoice never
ends an operator's suspension and an operator's ``reactivate`` never waives an unpaid bill. Repeating a
transition whose effect already holds changes nothing (idempotent); any other transition is refused with
the current state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from saascore.billing.state import AccessLevel
from saascore.lifecycle.exceptions import TransitionNotAllowedError

MAX_NOTE_CHARS = 500  # the tenants.lifecycle_note CHECK (migration 0600)
MAX_GRACE_DAYS = 365  # the longest grace period an offboarding can be given


class LifecycleState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    OFFBOARDING = "offboarding"
    ERASED = "erased"


class Hold(StrEnum):
    OPERATOR = "operator"
    BILLING = "billing"


class Action(StrEnum):
    SUSPEND = "suspend"
    REACTIVATE = "reactivate"
    OFFBOARD = "offboard"


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """A tenant's lifecycle columns as stored on its row."""

    state: LifecycleState
    hold: Hold | None = None
    note: str | None = None
    erase_after: datetime | None = None


def describe(lifecycle: Lifecycle) -> str:
    """``suspended (held by operator)``: the state as the commands and the operator API report it."""
    held = f" (held by {lifecycle.hold.value})" if lifecycle.hold else ""
    return lifecycle.state.value + held


@dataclass(frozen=True, slots=True)
class Transition:
    before: Lifecycle
    after: Lifecycle
    audit_action: str  # the audit log's action; empty when nothing changed

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True, slots=True)
class _Step:
    """What an operator's transition needs besides the current state."""

    billing_access: AccessLevel
    now: datetime
    grace_period: timedelta
    note: str | None


def _refuse(tenant_id: UUID, current: Lifecycle, action: Action, hint: str) -> TransitionNotAllowedError:
    return TransitionNotAllowedError(
        tenant_id=tenant_id,
        current=current.state.value,
        hold=None if current.hold is None else current.hold.value,
        action=action.value,
        hint=hint,
    )


def _unchanged(current: Lifecycle) -> Transition:
    return Transition(before=current, after=current, audit_action="")


def _suspend(tenant_id: UUID, current: Lifecycle, step: _Step) -> Transition:
    if current.state is LifecycleState.OFFBOARDING:
        raise _refuse(tenant_id, current, Action.SUSPEND, "reactivate it first to cancel the offboarding")
    if current.state is LifecycleState.SUSPENDED and current.hold is Hold.OPERATOR:
        return _unchanged(current)
    return Transition(
        current, Lifecycle(LifecycleState.SUSPENDED, Hold.OPERATOR, step.note), "tenant.suspended"
    )


def _reactivate(tenant_id: UUID, current: Lifecycle, step: _Step) -> Transition:
    if current.state is LifecycleState.ACTIVE:
        return _unchanged(current)
    if current.state is LifecycleState.SUSPENDED and current.hold is Hold.BILLING:
        raise _refuse(
            tenant_id, current, Action.REACTIVATE, "billing lifts its own hold once the invoice is paid"
        )
    if (
        current.state is LifecycleState.OFFBOARDING
        and current.erase_after
        and current.erase_after <= step.now
    ):
        # The erasure may have begun (Stripe customer, objects): past the grace period there is no way back.
        raise _refuse(
            tenant_id, current, Action.REACTIVATE, "its grace period is over and it is being erased"
        )
    # An unpaid bill outlives the operator's hold or the canceled offboarding.
    after = (
        Lifecycle(LifecycleState.SUSPENDED, Hold.BILLING, step.note)
        if step.billing_access is AccessLevel.SUSPENDED
        else Lifecycle(LifecycleState.ACTIVE, None, step.note)
    )
    canceled = current.state is LifecycleState.OFFBOARDING
    return Transition(current, after, "tenant.offboarding_canceled" if canceled else "tenant.reactivated")


def _offboard(tenant_id: UUID, current: Lifecycle, step: _Step) -> Transition:
    if current.state is LifecycleState.OFFBOARDING:
        return _unchanged(current)
    after = Lifecycle(LifecycleState.OFFBOARDING, None, step.note, erase_after=step.now + step.grace_period)
    return Transition(current, after, "tenant.offboarding_started")


_OPERATOR_ACTIONS = {Action.SUSPEND: _suspend, Action.REACTIVATE: _reactivate, Action.OFFBOARD: _offboard}


def operator_transition(
    tenant_id: UUID,
    current: Lifecycle,
    action: Action,
    *,
    billing_access: AccessLevel,
    now: datetime,
    grace_period: timedelta,
    note: str | None = None,
) -> Transition:
    """What an operator's ``action`` does to ``current``; raises when it is not allowed from there."""
    if current.state is LifecycleState.ERASED:
        raise _refuse(tenant_id, current, action, "an erased tenant has no data left to act on")
    step = _Step(billing_access=billing_access, now=now, grace_period=grace_period, note=note)
    return _OPERATOR_ACTIONS[action](tenant_id, current, step)


def billing_transition(current: Lifecycle, access: AccessLevel) -> Transition:
    """How billing's access level moves the lifecycle: it places and lifts the billing hold, nothing else.

    An operator's suspension, an offboarding or an erasure is never changed by a Stripe event (the event
    is still recorded, and the access level still stored, by the webhook processor).
    """
    if access is AccessLevel.SUSPENDED and current.state is LifecycleState.ACTIVE:
        return Transition(current, Lifecycle(LifecycleState.SUSPENDED, Hold.BILLING), "tenant.suspended")
    if (
        access is not AccessLevel.SUSPENDED
        and current.state is LifecycleState.SUSPENDED
        and current.hold is Hold.BILLING
    ):
        return Transition(current, Lifecycle(LifecycleState.ACTIVE), "tenant.reactivated")
    return _unchanged(current)
