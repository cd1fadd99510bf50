"""Applying a lifecycle transition: lock the tenant row, decide (``states``), store, audit and record the
domain event — one place.

Operators (``saas tenants suspend|reactivate|offboard``, the platform-operator API) and billing (the webhook
processor, inside the Stripe event's transaction) both come through here, so every change is row-locked,
idempotent, audited and announced (``tenant.*`` events, docs/events.md) the same way, in one transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final, Literal
from uuid import UUID

from saascore.billing.state import AccessLevel
from saascore.db.connection import Connection
from saascore.events import Actor, record_event
from saascore.lifecycle.exceptions import UnknownTenantError
from saascore.lifecycle.repositories import lifecycle as repo
from saascore.lifecycle.states import (
    Action,
    Lifecycle,
    Transition,
    billing_transition,
    operator_transition,
)

# Who moved the tenant, as the `tenant.*` events name it (the audit log's actor types).
_DRIVEN_BY: Final = {"system": "operator", "stripe": "billing"}


def lifecycle_document(lifecycle: Lifecycle) -> dict[str, Any]:
    """The audit before/after image of a lifecycle."""
    return {
        "lifecycle_state": lifecycle.state.value,
        "lifecycle_hold": None if lifecycle.hold is None else lifecycle.hold.value,
        "erase_after": None if lifecycle.erase_after is None else lifecycle.erase_after.isoformat(),
    }


def _store(
    conn: Connection,
    tenant_id: UUID,
    transition: Transition,
    *,
    actor_type: Literal["system", "stripe"],
    request_id: str | None,
    requested_by: str | None,
) -> None:
    if not transition.changed:
        return
    after = lifecycle_document(transition.after)
    if requested_by is not None:
        after["requested_by"] = requested_by
    if transition.after.note:
        after["note"] = transition.after.note
    repo.store_lifecycle(
        conn,
        tenant_id=tenant_id,
        lifecycle=transition.after,
        audit_action=transition.audit_action,
        actor_type=actor_type,
        changed_by=requested_by or actor_type,
        request_id=request_id,
        before=lifecycle_document(transition.before),
        after=after,
    )
    # The event tells the tenant's systems what changed, not why: the operator's note and name stay in
    # the audit log.
    record_event(
        conn,
        tenant_id=tenant_id,
        type=transition.audit_action,
        data={
            "tenant_id": str(tenant_id),
            "lifecycle": lifecycle_document(transition.after),
            "previous": lifecycle_document(transition.before),
            "driven_by": _DRIVEN_BY[actor_type],
            "stripe_event_id": request_id if actor_type == "stripe" else None,
        },
        actor=Actor(actor_type, request_id=request_id),
    )


def apply_operator_action(
    conn: Connection,
    *,
    tenant_id: UUID,
    action: Action,
    requested_by: str,
    now: datetime,
    grace_period: timedelta,
    note: str | None = None,
) -> Transition:
    """An operator's transition, in ``conn``'s transaction for ``tenant_id``."""
    locked = repo.lock_lifecycle(conn, tenant_id=tenant_id)
    if locked is None:
        raise UnknownTenantError(str(tenant_id))
    current, billing_access = locked
    transition = operator_transition(
        tenant_id,
        current,
        action,
        billing_access=billing_access,
        now=now,
        grace_period=grace_period,
        note=note,
    )
    _store(conn, tenant_id, transition, actor_type="system", request_id=None, requested_by=requested_by)
    return transition


def follow_billing(conn: Connection, *, tenant_id: UUID, access: AccessLevel, event_id: str) -> Transition:
    """Place or lift the billing hold after a Stripe event stored ``access`` on the tenant row."""
    locked = repo.lock_lifecycle(conn, tenant_id=tenant_id)
    if locked is None:
        raise UnknownTenantError(str(tenant_id))
    transition = billing_transition(locked[0], access)
    _store(conn, tenant_id, transition, actor_type="stripe", request_id=event_id, requested_by=None)
    return transition
