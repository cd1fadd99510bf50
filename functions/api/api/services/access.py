"""What a caller may do in its tenant: role permissions plus the tenant's plan and access level."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from api.exceptions import (
    PermissionDeniedError,
    TenantAccessError,
    TenantOffboardingError,
    TenantSuspendedError,
    UnauthenticatedError,
)
from api.services.identity import Principal
from saascore.billing.plans import FREE, Entitlements, plan_for
from saascore.billing.state import effective_access_level
from saascore.lifecycle.states import Hold, LifecycleState

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Access:
    principal: Principal
    role: str
    permissions: frozenset[str]
    plan: str  # effective plan: a lapsed trial counts as Free
    access_level: str
    billing_status: str
    lifecycle_state: str = LifecycleState.ACTIVE.value
    erase_after: datetime | None = None

    @property
    def entitlements(self) -> Entitlements:
        return plan_for(self.plan).entitlements


def effective_plan(plan: str, billing_status: str, trial_ends_at: datetime | None, now: datetime) -> str:
    if billing_status == "trialing" and trial_ends_at is not None and trial_ends_at <= now:
        return FREE
    return plan


def access_from_row(principal: Principal, row: dict[str, Any] | None, now: datetime) -> Access:
    if row is None or not row["session_active"]:
        raise UnauthenticatedError("the session has ended; sign in again")
    if row["lifecycle_state"] == LifecycleState.SUSPENDED and row["lifecycle_hold"] == Hold.OPERATOR:
        # The session check, not the token's expiry, ends a suspended tenant's access (decision 0110).
        raise TenantSuspendedError(
            "the platform operator suspended this tenant; contact support to have it reactivated",
            lifecycle_state=LifecycleState.SUSPENDED.value,
        )
    if row["role_key"] is None:
        raise PermissionDeniedError("you are no longer a member of this tenant")
    permissions = frozenset(row["permissions"])
    if row.get("api_key_scopes") is not None:
        # An API key's session may do what its creator may do now, and only within the key's scopes.
        permissions &= frozenset(row["api_key_scopes"])
    return Access(
        principal=principal,
        role=row["role_key"],
        permissions=permissions,
        plan=effective_plan(row["plan"], row["billing_status"], row["trial_ends_at"], now),
        # A grace period that ended since the last Stripe event already means read-only.
        access_level=effective_access_level(row["access_level"], row["billing_grace_ends_at"], now).value,
        billing_status=row["billing_status"],
        lifecycle_state=row["lifecycle_state"],
        erase_after=row["erase_after"],
    )


def authorize(access: Access, permission: str, method: str) -> None:
    """Refuse unless the role grants ``permission`` and the tenant's access level allows the method.

    A read-only tenant (unpaid) may still read; a suspended one may only reach billing, to pay; an
    offboarding one may still read and export, so its data can be taken out before it is erased.
    """
    if permission not in access.permissions:
        raise PermissionDeniedError(f"this needs the {permission} permission", permission=permission)
    billing = permission.startswith("billing:")
    if access.access_level == "suspended" and not billing:
        raise TenantAccessError(
            "the tenant is suspended; settle billing to continue", access_level="suspended"
        )
    taking_data_out = permission.startswith("exports:")
    if (
        access.lifecycle_state == LifecycleState.OFFBOARDING
        and method not in READ_METHODS
        and not taking_data_out
    ):
        erase_after = access.erase_after.isoformat() if access.erase_after else "the grace period"
        raise TenantOffboardingError(
            f"the tenant is being offboarded and its data will be erased after {erase_after}; it can still be"
            " read and exported, and support can cancel the offboarding",
            lifecycle_state=LifecycleState.OFFBOARDING.value,
            erase_after=erase_after,
        )
    if access.access_level == "read_only" and method not in READ_METHODS and not billing:
        raise TenantAccessError("the tenant is read-only until billing is settled", access_level="read_only")


def check_grantable(access: Access, role: dict[str, Any]) -> None:
    """Nobody grants what they do not hold: ``role``'s permissions must be a subset of the caller's."""
    missing = sorted(set(role["permissions"]) - access.permissions)
    if missing:
        raise PermissionDeniedError("you cannot grant permissions you do not hold", missing=missing)
